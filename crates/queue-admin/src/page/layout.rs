//! The frame every page shares: head, top bar with the queue switcher, toast area.

use std::fmt::Write as _;

use queue_core::JobState;

use super::Ctx;
use crate::assets::{CSS, ICON, JS};
use crate::error::ApiError;
use crate::escape::html;

/// A whole page around `main`. `view` names it for the script (`dashboard`, `job`, `error`).
pub(crate) fn page(ctx: &Ctx, title: &str, view: &str, main: &str) -> String {
    let root = html(&ctx.root);
    let mut out = String::with_capacity(main.len() + 4096);
    let _ = write!(
        out,
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="queue-admin-root" content="{root}">
<meta name="queue-admin-queue" content="{queue}">
<meta name="csrf-token" content="{csrf}">
<title>{title} · queue admin</title>
<link rel="icon" type="image/svg+xml" href="{root}{icon}">
<link rel="stylesheet" href="{root}{css}">
<script src="{root}{js}" defer></script>
</head>
<body data-view="{view}">
<header class="topbar">
<div class="topbar-inner">
<a class="brand" href="{home}"><img src="{root}{icon}" alt="" width="22" height="22"><span>queue admin</span></a>
{switcher}
<span class="live" data-live hidden><span class="dot"></span><span data-live-text>live</span></span>
</div>
</header>
<main class="wrap">
{main}
</main>
<div class="toast" role="status" aria-live="polite" data-toast hidden></div>
</body>
</html>
"#,
        queue = html(ctx.queue_name()),
        csrf = html(ctx.app.csrf.value()),
        title = html(title),
        icon = html(&ICON.href()),
        css = html(&CSS.href()),
        js = html(&JS.href()),
        view = html(view),
        home = html(&ctx.link(&[])),
        switcher = switcher(ctx),
    );
    out
}

/// A select of the queues when there are several; the queue's name when there is one.
fn switcher(ctx: &Ctx) -> String {
    let queues = &ctx.app.queues;
    if queues.len() < 2 {
        return format!(
            r#"<span class="queue-name" title="queue">{}</span>"#,
            html(ctx.queue_name())
        );
    }
    let mut options = String::new();
    for q in queues.iter() {
        let selected = if q.name == ctx.queue_name() {
            " selected"
        } else {
            ""
        };
        let _ = write!(
            options,
            r#"<option value="{0}"{selected}>{0}</option>"#,
            html(&q.name)
        );
    }
    format!(
        r#"<form class="switcher" method="get"><label for="queue-switch">Queue</label><select id="queue-switch" name="queue" data-autosubmit>{options}</select><noscript><button class="btn btn-small">Show</button></noscript></form>"#
    )
}

/// A coloured badge naming a state.
pub(crate) fn badge(state: JobState) -> String {
    format!(
        r#"<span class="badge state-{0}">{0}</span>"#,
        state.as_str()
    )
}

/// The page for an error: what went wrong and a way back.
pub(crate) fn error_page(ctx: &Ctx, e: &ApiError) -> String {
    let main = format!(
        r#"<section class="panel notice">
<h1>{status}</h1>
<p>{message}</p>
<p><a class="btn" href="{home}">Back to the dashboard</a></p>
</section>"#,
        status = html(e.status.canonical_reason().unwrap_or("Error")),
        message = html(&e.message),
        home = html(&ctx.link(&[])),
    );
    page(ctx, "Error", "error", &main)
}
