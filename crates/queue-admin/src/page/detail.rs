//! One job: its facts, the actions its state allows, and its last error, payload and
//! output pretty-printed.

use std::fmt::Write as _;

use queue_core::{Job, JobState};

use super::layout::{badge, page};
use super::time::time_tag;
use super::{Ctx, PageResult};
use crate::admin::NamedQueue;
use crate::api::jobs::find;
use crate::escape::html;

/// Renders the page of job `id` of `q`; 400 for a malformed id, 404 for an unknown one.
pub(crate) async fn render(ctx: &Ctx<'_>, q: &NamedQueue, id: &str) -> PageResult {
    let job = find(q.backend.as_ref(), id).await?;
    let id = job.id.to_string();
    let mut main = String::new();
    let _ = write!(
        main,
        r#"<nav class="crumbs" aria-label="Breadcrumb"><a href="{list}">Jobs</a><span>/</span><a href="{kind_list}">{kind}</a><span>/</span><span class="mono">{id}</span></nav>"#,
        list = html(&ctx.link(&[])),
        kind_list = html(&ctx.link(&[("kind", &job.kind)])),
        kind = html(&job.kind),
    );
    let _ = write!(
        main,
        r#"<section class="panel detail" data-job="{id}" data-state="{state}">
<header class="detail-head"><div><h1><span class="kind">{kind}</span> <span data-job-badge>{badge}</span></h1><p class="mono muted">{id}</p></div>
<div class="actions">{actions}</div></header>
{facts}
</section>"#,
        state = job.state.as_str(),
        kind = html(&job.kind),
        badge = badge(job.state),
        actions = actions(ctx, &job),
        facts = facts(ctx, &job),
    );
    if let Some(error) = &job.last_error {
        let title = if job.state == JobState::Failed {
            "Last error"
        } else {
            "Last error (of an earlier attempt)"
        };
        main.push_str(&block(title, "error", "code error", error));
    }
    main.push_str(&block("Payload", "payload", "code", &pretty(&job.payload)));
    match &job.output {
        Some(output) => main.push_str(&block("Output", "output", "code", &pretty(output))),
        None if job.state == JobState::Completed => {
            main.push_str(&block("Output", "output", "code muted", "(none)"));
        }
        None => {}
    }
    Ok(page(ctx, &format!("{} {id}", job.kind), "job", &main))
}

/// One action button; the script sends it with the CSRF token, asks first when `confirm`
/// is set, then reloads or goes to `after`.
struct Action<'a> {
    class: &'a str,
    method: &'a str,
    url: String,
    text: &'a str,
    confirm: &'a str,
    done: &'a str,
    after: &'a str,
}

impl Action<'_> {
    fn render(&self, out: &mut String) {
        let _ = write!(
            out,
            r#"<button class="btn {}" type="button" data-method="{}" data-url="{}" data-confirm="{}" data-done="{}" data-after="{}">{}</button>"#,
            self.class,
            self.method,
            html(&self.url),
            html(self.confirm),
            html(self.done),
            html(self.after),
            html(self.text),
        );
    }
}

/// The buttons the job's state allows.
fn actions(ctx: &Ctx, job: &Job) -> String {
    let id = job.id;
    let list = ctx.link(&[]);
    let mut buttons = Vec::new();
    match job.state {
        JobState::Failed => buttons.push(Action {
            class: "btn-primary",
            method: "POST",
            url: format!("api/jobs/{id}/replay"),
            text: "Replay",
            confirm: "Replay this job? It goes back to pending with its attempts reset.",
            done: "Replayed",
            after: "reload",
        }),
        JobState::Pending if job.scheduled_at > ctx.now => buttons.push(Action {
            class: "btn-primary",
            method: "POST",
            url: format!("api/jobs/{id}/run-now"),
            text: "Run now",
            confirm: "",
            done: "Due now",
            after: "reload",
        }),
        _ => {}
    }
    if job.state.is_final() {
        buttons.push(Action {
            class: "btn-danger",
            method: "DELETE",
            url: format!("api/jobs/{id}"),
            text: "Delete",
            confirm: "Delete this job for good?",
            done: "Deleted",
            after: &list,
        });
    } else {
        buttons.push(Action {
            class: "btn-danger",
            method: "POST",
            url: format!("api/jobs/{id}/cancel"),
            text: "Cancel",
            confirm: if job.state == JobState::Running {
                "Cancel this job? Its worker is asked to stop it; it ends cancelled unless it succeeds first."
            } else {
                "Cancel this job? It will never run."
            },
            done: "Cancelled",
            after: "reload",
        });
    }
    let mut out = String::new();
    for b in &buttons {
        b.render(&mut out);
    }
    out
}

fn facts(ctx: &Ctx, job: &Job) -> String {
    let mut rows: Vec<(&str, String)> = vec![
        ("Priority", job.priority.to_string()),
        (
            "Attempts",
            format!("{} of {}", job.attempts, job.max_attempts),
        ),
        ("Created", time_tag(ctx.now, job.created_at)),
        (
            if job.state == JobState::Pending && job.scheduled_at > ctx.now {
                "Due"
            } else {
                "Scheduled"
            },
            time_tag(ctx.now, job.scheduled_at),
        ),
    ];
    if let Some(t) = job.finished_at {
        rows.push(("Finished", time_tag(ctx.now, t)));
    }
    if let Some(lease) = &job.lease {
        rows.push(("Lease expires", time_tag(ctx.now, lease.expires_at)));
    }
    if let Some(key) = &job.unique_key {
        rows.push((
            "Unique key",
            format!(r#"<span class="mono">{}</span>"#, html(key)),
        ));
    }
    if job.cancel_requested {
        rows.push(("Cancel", "requested".to_owned()));
    }
    let mut out = String::from(r#"<dl class="facts">"#);
    for (name, value) in rows {
        let _ = write!(out, "<div><dt>{name}</dt><dd>{value}</dd></div>");
    }
    out.push_str("</dl>");
    out
}

/// A titled panel holding `text` preformatted (escaped here); `name` tells it apart.
fn block(title: &str, name: &str, class: &str, text: &str) -> String {
    format!(
        r#"<section class="panel" data-block="{name}"><header class="panel-head"><h2>{title}</h2><button class="btn btn-small btn-quiet" type="button" data-copy>Copy</button></header><pre class="{class}">{}</pre></section>"#,
        html(text)
    )
}

/// JSON indented for reading.
fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}
