//! [`Admin`]: the queues an admin shows, and the router that serves them.

use std::sync::Arc;

use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{middleware, Router};
use queue_core::Backend;

use crate::csrf::{self, CsrfToken};
use crate::error::ApiError;
use crate::{api, assets, page};

/// The queues of one admin surface, and what else it serves. Build it, then call
/// [`Admin::router`] (to mount in your app) or hand it to [`crate::serve`].
///
/// ```
/// use std::sync::Arc;
/// use queue_admin::Admin;
/// use queue_memory::MemoryQueue;
///
/// let billing = Arc::new(MemoryQueue::new());
/// let email = Arc::new(MemoryQueue::new());
/// let app: axum::Router = axum::Router::new().nest(
///     "/admin/jobs",
///     Admin::new().queue("billing", billing).queue("email", email).router(),
/// );
/// ```
#[derive(Clone, Default)]
pub struct Admin {
    queues: Vec<NamedQueue>,
    #[cfg(feature = "prometheus")]
    metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
}

/// One queue of an [`Admin`], by the name the page and the `queue` parameter use.
#[derive(Clone)]
pub(crate) struct NamedQueue {
    pub name: String,
    pub backend: Arc<dyn Backend>,
}

impl Admin {
    /// An admin with no queues yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a queue under `name`; the first one added is shown when a request names none.
    /// A queue added again under a name already used replaces the earlier one.
    pub fn queue(mut self, name: impl Into<String>, backend: Arc<dyn Backend>) -> Self {
        let name = name.into();
        match self.queues.iter_mut().find(|q| q.name == name) {
            Some(q) => q.backend = backend,
            None => self.queues.push(NamedQueue { name, backend }),
        }
        self
    }

    /// Serves `handle.render()` at `metrics`, in the Prometheus text format. The caller
    /// installed the recorder and runs its upkeep; [`crate::serve`] does both itself when
    /// no handle is given.
    #[cfg(feature = "prometheus")]
    #[cfg_attr(docsrs, doc(cfg(feature = "prometheus")))]
    pub fn metrics(mut self, handle: metrics_exporter_prometheus::PrometheusHandle) -> Self {
        self.metrics = Some(handle);
        self
    }

    #[cfg(feature = "prometheus")]
    pub(crate) fn metrics_handle(&self) -> Option<&metrics_exporter_prometheus::PrometheusHandle> {
        self.metrics.as_ref()
    }

    /// The names of the queues, in the order they were added.
    pub fn queue_names(&self) -> impl Iterator<Item = &str> {
        self.queues.iter().map(|q| q.name.as_str())
    }

    /// The router: the dashboard at its root, the JSON API under `api/`, assets under
    /// `assets/`, and (with [`Admin::metrics`]) `metrics`. Every link and fetch in the page
    /// is relative, so it works wherever it is nested. It does no authentication (see the
    /// crate docs); it does guard against cross-site requests, with a token made here, so
    /// each call gives a router with a token of its own.
    pub fn router(&self) -> Router {
        let csrf = CsrfToken::generate();
        let state = AppState {
            queues: self.queues.clone().into(),
            csrf: csrf.clone(),
            #[cfg(feature = "prometheus")]
            metrics: self.metrics.clone(),
        };
        let router = Router::new()
            .route("/", get(page::show))
            .route("/api/queues", get(api::stats::queues))
            .route("/api/stats", get(api::stats::stats))
            .route("/api/paused", get(api::stats::paused))
            .route("/api/csrf", get(api::stats::csrf))
            .route("/api/jobs", get(api::jobs::list))
            .route(
                "/api/jobs/{id}",
                get(api::jobs::get).delete(api::actions::delete),
            )
            .route("/api/jobs/{id}/replay", post(api::actions::replay))
            .route("/api/jobs/{id}/cancel", post(api::actions::cancel))
            .route("/api/jobs/{id}/run-now", post(api::actions::run_now))
            .route("/api/replay-failed", post(api::actions::replay_failed))
            .route("/api/purge", post(api::actions::purge))
            .route("/api/kinds/{kind}/pause", post(api::actions::pause))
            .route("/api/kinds/{kind}/resume", post(api::actions::resume))
            .route("/api/limits", get(api::limits::list))
            .route(
                "/api/kinds/{kind}/limit",
                put(api::limits::set).delete(api::limits::clear),
            )
            .route("/assets/{file}", get(assets::serve));
        #[cfg(feature = "prometheus")]
        let router = router.route("/metrics", get(crate::metrics::render));
        router
            .fallback(not_found)
            .method_not_allowed_fallback(method_not_allowed)
            .layer(middleware::from_fn_with_state(csrf, csrf::guard))
            .with_state(state)
    }
}

/// A router over one queue named "default": `Admin::new().queue("default", backend).router()`.
///
/// ```
/// use std::sync::Arc;
/// use queue_memory::MemoryQueue;
///
/// let queue = Arc::new(MemoryQueue::new());
/// let app: axum::Router = axum::Router::new().nest("/admin/jobs", queue_admin::router(queue));
/// ```
pub fn router(backend: Arc<dyn Backend>) -> Router {
    Admin::new().queue("default", backend).router()
}

/// What every handler sees.
#[derive(Clone)]
pub(crate) struct AppState {
    pub queues: Arc<[NamedQueue]>,
    pub csrf: CsrfToken,
    #[cfg(feature = "prometheus")]
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
}

impl AppState {
    /// The queue a request names, or the first one when it names none.
    pub fn queue(&self, name: Option<&str>) -> Result<&NamedQueue, ApiError> {
        match name.filter(|n| !n.is_empty()) {
            Some(name) => self
                .queues
                .iter()
                .find(|q| q.name == name)
                .ok_or_else(|| ApiError::unknown_queue(name)),
            None => self
                .queues
                .first()
                .ok_or_else(|| ApiError::not_found("this admin has no queues")),
        }
    }
}

async fn not_found(uri: Uri) -> Response {
    ApiError::not_found(format!("no such route: {}", uri.path())).into_response()
}

async fn method_not_allowed() -> Response {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not take that method",
    )
    .into_response()
}
