//! The dashboard page: the cards, charts, paused kinds and limits, then one page of jobs with its
//! state tabs, kind filter, bulk actions and "older" paging.

use std::fmt::Write as _;

use queue_core::{Job, JobState};

use super::dashboard::{self, label};
use super::layout::{badge, page};
use super::time::time_tag;
use super::{Ctx, PageResult};
use crate::admin::NamedQueue;
use crate::api::jobs::{filter_of, preview, Page};
use crate::api::params::Params;
use crate::api::stats::StatsView;
use crate::escape::{html, query};

/// Jobs on one page of the list.
const PAGE_SIZE: usize = 50;

/// Renders the dashboard of `q` for the list `params` ask for.
pub(crate) async fn render(ctx: &Ctx<'_>, q: &NamedQueue, params: &Params) -> PageResult {
    let filter = filter_of(params, PAGE_SIZE)?;
    let stats = StatsView::load(&q.name, q.backend.as_ref()).await?;
    let before = filter.before.map(|id| id.to_string()).unwrap_or_default();
    let state = filter.state;
    let kind = filter.kind.clone().unwrap_or_default();
    let jobs = Page::load(q.backend.as_ref(), filter).await?;

    let mut main = String::new();
    main.push_str(&dashboard::cards(ctx, &stats, state));
    let _ = write!(
        main,
        r#"<div class="overview">{}{}</div>"#,
        dashboard::charts(),
        dashboard::paused(&stats)
    );
    main.push_str(&dashboard::limits(&stats));
    main.push_str(&jobs_panel(ctx, state, &kind, &before, &jobs));
    let title = match state {
        Some(s) => format!("{} jobs", label(s)),
        None => "Jobs".to_owned(),
    };
    Ok(page(ctx, &title, "dashboard", &main))
}

fn jobs_panel(ctx: &Ctx, state: Option<JobState>, kind: &str, before: &str, jobs: &Page) -> String {
    let state_name = state.map_or("", JobState::as_str);
    let mut out = String::from(r#"<section class="panel jobs-panel"><header class="panel-head">"#);

    out.push_str(r#"<nav class="tabs" aria-label="Filter by state">"#);
    let tab = |out: &mut String, s: Option<JobState>, text: &str| {
        let current = if s == state {
            r#" class="tab active" aria-current="page""#
        } else {
            r#" class="tab""#
        };
        let _ = write!(
            out,
            r#"<a{current} href="{}">{}</a>"#,
            html(&ctx.link(&[("state", s.map_or("", JobState::as_str)), ("kind", kind)])),
            html(text)
        );
    };
    tab(&mut out, None, "All");
    for s in JobState::ALL {
        tab(&mut out, Some(s), label(s));
    }
    out.push_str("</nav>");

    let _ = write!(
        out,
        r#"<form class="filter" method="get" role="search">{hidden_queue}{hidden_state}<input type="search" name="kind" value="{kind}" placeholder="Filter by kind" aria-label="Filter by kind" autocomplete="off"><button class="btn btn-small" type="submit">Filter</button>{clear}</form>"#,
        hidden_queue = hidden("queue", ctx.queue_param()),
        hidden_state = hidden("state", state_name),
        kind = html(kind),
        clear = if kind.is_empty() {
            String::new()
        } else {
            format!(
                r#"<a class="btn btn-small btn-quiet" href="{}">Clear</a>"#,
                html(&ctx.link(&[("state", state_name)]))
            )
        },
    );
    out.push_str("</header>");
    out.push_str(&bulk_actions(state, kind));
    out.push_str(&table(ctx, state, kind, jobs));

    out.push_str(r#"<footer class="pager">"#);
    if !before.is_empty() {
        let _ = write!(
            out,
            r#"<a class="btn btn-small btn-quiet" href="{}">« Newest</a>"#,
            html(&ctx.link(&[("state", state_name), ("kind", kind)]))
        );
    }
    out.push_str(r#"<span class="muted" data-refresh-hint></span>"#);
    if let Some(next) = jobs.next {
        let next = next.to_string();
        let _ = write!(
            out,
            r#"<a class="btn btn-small" rel="next" href="{}">Older »</a>"#,
            html(&ctx.link(&[("state", state_name), ("kind", kind), ("before", &next)]))
        );
    }
    out.push_str("</footer></section>");
    out
}

/// Replay of the failed jobs (of the filtered kind) and purge of old finished jobs, where
/// the list shows a state they apply to.
fn bulk_actions(state: Option<JobState>, kind: &str) -> String {
    let Some(state) = state.filter(|s| s.is_final()) else {
        return String::new();
    };
    let mut out = String::from(r#"<div class="bulk">"#);
    if state == JobState::Failed {
        let (text, confirm) = if kind.is_empty() {
            (
                "Replay failed jobs".to_owned(),
                "Replay up to 500 failed jobs? They go back to pending with their attempts reset."
                    .to_owned(),
            )
        } else {
            (
                format!("Replay failed {kind} jobs"),
                format!("Replay up to 500 failed {kind} jobs? They go back to pending with their attempts reset."),
            )
        };
        let _ = write!(
            out,
            r#"<button class="btn btn-primary" type="button" data-method="POST" data-url="api/replay-failed{q}" data-confirm="{confirm}" data-bulk="Replayed">{text}</button>"#,
            q = html(&query(&[("kind", kind)])).trim_end_matches('?'),
            confirm = html(&confirm),
            text = html(&text),
        );
    }
    let _ = write!(
        out,
        r#"<form class="inline-form purge" data-purge-form data-state="{s}"><label for="purge-age">Purge {s} jobs finished more than</label><select id="purge-age" name="older_than"><option value="3600">1 hour</option><option value="86400" selected>1 day</option><option value="604800">7 days</option><option value="2592000">30 days</option><option value="0">0 s (all)</option></select><span>ago</span><button class="btn btn-danger" type="submit">Purge</button></form>"#,
        s = state.as_str()
    );
    out.push_str("</div>");
    out
}

fn table(ctx: &Ctx, state: Option<JobState>, kind: &str, jobs: &Page) -> String {
    let mut out = String::from(
        r#"<div class="table-wrap"><table class="jobs"><thead><tr><th>Job</th><th>Kind</th><th>State</th><th class="num">Attempts</th><th>Created</th><th>Due / finished</th><th>Last error</th></tr></thead><tbody>"#,
    );
    for job in &jobs.jobs {
        out.push_str(&row(ctx, job));
    }
    if jobs.jobs.is_empty() {
        let what = match (state, kind) {
            (Some(s), "") => format!("No {s} jobs."),
            (Some(s), k) => format!("No {s} jobs of kind {k}."),
            (None, "") => "No jobs.".to_owned(),
            (None, k) => format!("No jobs of kind {k}."),
        };
        let _ = write!(
            out,
            r#"<tr><td colspan="7" class="empty">{}</td></tr>"#,
            html(&what)
        );
    }
    out.push_str("</tbody></table></div>");
    out
}

fn row(ctx: &Ctx, job: &Job) -> String {
    let id = job.id.to_string();
    let href = ctx.link(&[("job", &id)]);
    let when = match job.finished_at {
        Some(t) => time_tag(ctx.now, t),
        None => time_tag(ctx.now, job.scheduled_at),
    };
    let error = job.last_error.as_deref().unwrap_or("");
    let cancel = if job.cancel_requested {
        r#" <span class="tag" title="A cancel was requested">cancelling</span>"#
    } else {
        ""
    };
    format!(
        r#"<tr data-href="{href}"><td class="mono id"><a href="{href}">{id}</a></td><td class="kind">{kind}</td><td class="state">{badge}{cancel}</td><td class="num">{attempts}/{max}</td><td class="created">{created}</td><td class="when">{when}</td><td class="error" title="{error_title}">{error_text}</td></tr>"#,
        href = html(&href),
        kind = html(&job.kind),
        badge = badge(job.state),
        attempts = job.attempts,
        max = job.max_attempts,
        created = time_tag(ctx.now, job.created_at),
        error_title = html(&preview(error, 1000)),
        error_text = html(&preview(error, 160)),
    )
}

fn hidden(name: &str, value: &str) -> String {
    if value.is_empty() {
        String::new()
    } else {
        format!(
            r#"<input type="hidden" name="{}" value="{}">"#,
            html(name),
            html(value)
        )
    }
}
