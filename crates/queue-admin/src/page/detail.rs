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
        main.push_str(&block("Last error", "code error", error));
    }
    main.push_str(&block("Payload", "code", &pretty(&job.payload)));
    match &job.output {
        Some(output) => main.push_str(&block("Output", "code", &pretty(output))),
        None if job.state == JobState::Completed => {
            main.push_str(&block("Output", "code muted", "(none)"));
        }
        None => {}
    }
    Ok(page(ctx, &format!("{} {id}", job.kind), "job", &main))
}

/// The buttons the job's state allows; the script sends them with the CSRF token and asks
/// first where `data-confirm` says so.
fn actions(ctx: &Ctx, job: &Job) -> String {
    let id = job.id;
    let mut out = String::new();
    let mut button = |class: &str,
                      url: String,
                      method: &str,
                      text: &str,
                      confirm: &str,
                      after: &str| {
        let _ = write!(
            out,
            r#"<button class="btn {class}" type="button" data-method="{method}" data-url="{url}" data-confirm="{confirm}" data-after="{after}" data-done="{text}: done">{text}</button>"#,
            url = html(&url),
            confirm = html(confirm),
            text = html(text),
        );
    };
    match job.state {
        JobState::Failed => button(
            "btn-primary",
            format!("api/jobs/{id}/replay"),
            "POST",
            "Replay",
            "Replay this job? It goes back to pending with its attempts reset.",
            "reload",
        ),
        JobState::Pending if job.scheduled_at > ctx.now => button(
            "btn-primary",
            format!("api/jobs/{id}/run-now"),
            "POST",
            "Run now",
            "",
            "reload",
        ),
        _ => {}
    }
    if !job.state.is_final() {
        let confirm = if job.state == JobState::Running {
            "Cancel this job? Its worker is asked to stop it; it ends cancelled unless it succeeds first."
        } else {
            "Cancel this job? It will never run."
        };
        button(
            "btn-danger",
            format!("api/jobs/{id}/cancel"),
            "POST",
            "Cancel",
            confirm,
            "reload",
        );
    } else {
        button(
            "btn-danger",
            format!("api/jobs/{id}"),
            "DELETE",
            "Delete",
            "Delete this job for good?",
            &ctx.link(&[]),
        );
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

/// A titled panel holding `text` preformatted (escaped here).
fn block(title: &str, class: &str, text: &str) -> String {
    format!(
        r#"<section class="panel"><header class="panel-head"><h2>{title}</h2><button class="btn btn-small btn-quiet" type="button" data-copy>Copy</button></header><pre class="{class}">{}</pre></section>"#,
        html(text)
    )
}

/// JSON indented for reading.
fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}
