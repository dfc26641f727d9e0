//! The top of the dashboard: a card per state, the lag, the two charts, the paused kinds
//! and the limits.

use std::fmt::Write as _;

use queue_core::JobState;

use super::time::{exact, span};
use super::Ctx;
use crate::api::stats::StatsView;
use crate::escape::{html, url_component};

/// The cards: each state's count (a link to its list), then the lag. The script updates
/// the elements carrying `data-count` and `data-stat` from `api/stats`.
pub(crate) fn cards(ctx: &Ctx, stats: &StatsView, shown: Option<JobState>) -> String {
    let mut out = String::from(r#"<section class="cards" aria-label="Jobs per state">"#);
    for state in JobState::ALL {
        let count = count_of(stats, state);
        let active = if shown == Some(state) { " active" } else { "" };
        let _ = write!(
            out,
            r#"<a class="card state-{s}{active}" href="{href}"><span class="card-label">{label}</span><span class="card-value" data-count="{s}">{count}</span></a>"#,
            s = state.as_str(),
            href = html(&ctx.link(&[("state", state.as_str())])),
            label = label(state),
        );
    }
    let (lag, title) = match stats.oldest_due {
        Some(t) => (
            span(stats.lag_seconds),
            format!("The oldest due job fell due at {}", exact(t)),
        ),
        None => ("0 s".to_owned(), "No job is waiting".to_owned()),
    };
    let _ = write!(
        out,
        r#"<div class="card card-lag"><span class="card-label">Lag</span><span class="card-value" data-stat="lag" title="{}">{}</span></div></section>"#,
        html(&title),
        html(&lag),
    );
    out
}

/// The two sparklines, drawn by the script from the stats it polls.
pub(crate) fn charts() -> String {
    let chart = |key: &str, caption: &str, hint: &str| {
        format!(
            r#"<figure class="chart" data-chart="{key}"><figcaption><span class="chart-label" title="{hint}">{caption}</span><strong class="chart-value" data-stat="{key}">–</strong></figcaption><svg class="spark" viewBox="0 0 300 48" preserveAspectRatio="none" role="img" aria-label="{caption}, last 5 minutes"></svg><span class="chart-note" data-chart-note>collecting…</span></figure>"#
        )
    };
    format!(
        r#"<section class="charts">{}{}</section>"#,
        chart(
            "rate",
            "Finished / s",
            "Completed, failed and cancelled jobs per second"
        ),
        chart("pending", "Pending", "Jobs waiting to run"),
    )
}

/// The paused kinds, each with a resume button, and a form to pause one.
pub(crate) fn paused(stats: &StatsView) -> String {
    let mut chips = String::new();
    for kind in &stats.paused {
        let _ = write!(
            chips,
            r#"<li class="chip"><span class="mono">{k}</span><button class="btn btn-small" type="button" data-method="POST" data-url="api/kinds/{u}/resume" data-done="Resumed {k}">Resume</button></li>"#,
            k = html(kind),
            u = html(&url_component(kind)),
        );
    }
    let list = if chips.is_empty() {
        r#"<p class="muted">None: every kind is being claimed.</p>"#.to_owned()
    } else {
        format!(r#"<ul class="chips">{chips}</ul>"#)
    };
    format!(
        r#"<section class="panel paused-panel">
<header class="panel-head"><h2>Paused kinds</h2>
<form class="inline-form" data-pause-form><input name="kind" placeholder="kind" aria-label="Kind to pause" required autocomplete="off"><button class="btn btn-small" type="submit">Pause</button></form>
</header>
{list}
</section>"#
    )
}

/// The limited kinds: each limit, its running and held-back jobs (the script keeps those
/// two live from `api/stats`) and a clear button; then a form to set one.
pub(crate) fn limits(stats: &StatsView) -> String {
    let mut rows = String::new();
    for l in &stats.limits {
        let _ = write!(
            rows,
            r#"<tr><td class="mono kind">{k}</td><td>{limit}</td><td class="num" data-limit-running="{k}">{running}</td><td class="num" data-limit-waiting="{k}">{waiting}</td><td class="actions"><button class="btn btn-small" type="button" data-method="DELETE" data-url="api/kinds/{u}/limit" data-confirm="Remove the limit of {k}?" data-done="Cleared the limit of {k}">Clear</button></td></tr>"#,
            k = html(&l.kind),
            limit = html(&l.limit.to_string()),
            running = l.running,
            waiting = l.waiting,
            u = html(&url_component(&l.kind)),
        );
    }
    let body = if rows.is_empty() {
        r#"<p class="muted">None: no kind is limited across workers.</p>"#.to_owned()
    } else {
        format!(
            r#"<div class="table-wrap"><table class="limits"><thead><tr><th>Kind</th><th>Limit</th><th class="num" title="Jobs of the kind running now">Running</th><th class="num" title="Due jobs the limit holds back">Held back</th><th></th></tr></thead><tbody>{rows}</tbody></table></div>"#
        )
    };
    format!(
        r#"<section class="panel limits-panel">
<header class="panel-head"><h2>Limits</h2>
<form class="inline-form" data-limit-form><input name="kind" placeholder="kind" aria-label="Kind to limit" required autocomplete="off"><input name="concurrency" type="number" min="1" placeholder="at once" aria-label="Running at once"><input name="key_concurrency" type="number" min="1" placeholder="per key" aria-label="Running at once per concurrency key"><input name="rate" placeholder="rate 100/1m" aria-label="Starts per period" pattern="\s*\d+\s*/\s*\d*\s*(ms|s|m|h|d)\s*"><input name="key_rate" placeholder="key rate 5/1s" aria-label="Starts per period per concurrency key" pattern="\s*\d+\s*/\s*\d*\s*(ms|s|m|h|d)\s*"><button class="btn btn-small" type="submit">Set limit</button></form>
</header>
{body}
</section>"#
    )
}

fn count_of(stats: &StatsView, state: JobState) -> u64 {
    match state {
        JobState::Pending => stats.pending,
        JobState::Running => stats.running,
        JobState::Completed => stats.completed,
        JobState::Failed => stats.failed,
        JobState::Cancelled => stats.cancelled,
    }
}

/// A state's name as a heading.
pub(crate) fn label(state: JobState) -> &'static str {
    match state {
        JobState::Pending => "Pending",
        JobState::Running => "Running",
        JobState::Completed => "Completed",
        JobState::Failed => "Failed",
        JobState::Cancelled => "Cancelled",
    }
}
