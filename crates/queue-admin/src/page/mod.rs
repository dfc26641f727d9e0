//! The dashboard: server-rendered HTML at the router's root. `?job=ID` shows one job;
//! anything else the counts, charts, paused kinds and a page of jobs (`state`, `kind`,
//! `before`). Every link is a query-only reference or starts with [`Ctx::root`], so the page
//! works wherever the router is mounted.

mod dashboard;
mod detail;
mod layout;
mod list;
pub(crate) mod time;

use ::time::OffsetDateTime;
use axum::extract::{OriginalUri, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::admin::{AppState, NamedQueue};
use crate::api::params::Params;
use crate::error::ApiError;
use crate::escape;

/// What every part of a page needs to know.
pub(crate) struct Ctx<'a> {
    /// The prefix that turns a path relative to the router's root into one relative to
    /// this page: `./` when the page's URL ends in `/`, else `./`, its last segment and `/`
    /// (a router nested at `/admin/jobs` serves its page at `/admin/jobs`, whose relative
    /// references resolve against `/admin/`). The `./` keeps a segment with a colon from
    /// reading as a URL scheme.
    pub root: String,
    pub app: &'a AppState,
    /// The queue shown, when the request named a known one (or none).
    pub queue: Option<&'a NamedQueue>,
    pub now: OffsetDateTime,
}

impl Ctx<'_> {
    /// The shown queue's name ("" when there is none).
    pub fn queue_name(&self) -> &str {
        self.queue.map_or("", |q| q.name.as_str())
    }

    /// The `queue` parameter links carry: the shown queue's name, or "" for the default
    /// (first) one, which keeps the common single-queue URLs short.
    pub fn queue_param(&self) -> &str {
        let default = self.app.queues.first().map(|q| q.name.as_str());
        match self.queue {
            Some(q) if Some(q.name.as_str()) != default => q.name.as_str(),
            _ => "",
        }
    }

    /// A link to this page with `pairs` as its query, keeping the queue.
    pub fn link(&self, pairs: &[(&str, &str)]) -> String {
        let mut all = vec![("queue", self.queue_param())];
        all.extend_from_slice(pairs);
        escape::query(&all)
    }
}

/// `GET /`: the dashboard or one job.
pub(crate) async fn show(
    State(app): State<AppState>,
    OriginalUri(uri): OriginalUri,
    params: Params,
) -> Response {
    let root = root_prefix(uri.path());
    let queue = app.queue(params.queue());
    let ctx = Ctx {
        root,
        app: &app,
        queue: queue.as_ref().ok().copied(),
        now: OffsetDateTime::now_utc(),
    };
    let rendered = match (&queue, params.get("job")) {
        (Err(e), _) => Err(e.clone()),
        (Ok(q), Some(id)) => detail::render(&ctx, q, id).await,
        (Ok(q), None) => list::render(&ctx, q, &params).await,
    };
    match rendered {
        Ok(body) => html_response(StatusCode::OK, body),
        Err(e) => html_response(e.status, layout::error_page(&ctx, &e)),
    }
}

/// See [`Ctx::root`].
fn root_prefix(path: &str) -> String {
    if path.is_empty() || path.ends_with('/') {
        "./".to_owned()
    } else {
        let last = path.rsplit('/').next().unwrap_or_default();
        format!("./{last}/")
    }
}

/// Content Security Policy of the page: its own script, style and images only, so that
/// even markup that slipped through escaping could not run.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
    connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

fn html_response(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    let h = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
        (header::CACHE_CONTROL, "no-store"),
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
    ] {
        h.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// The error an unknown job id or a failed backend call shows as a page.
pub(crate) type PageResult = Result<String, ApiError>;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::root_prefix;

    #[test]
    fn root_prefix_reaches_the_router_root() {
        assert_eq!(root_prefix("/"), "./");
        assert_eq!(root_prefix(""), "./");
        assert_eq!(root_prefix("/admin/jobs"), "./jobs/");
        assert_eq!(root_prefix("/admin/jobs/"), "./");
        assert_eq!(root_prefix("/ops/a:b"), "./a:b/");
    }
}
