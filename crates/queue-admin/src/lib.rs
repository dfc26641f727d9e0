//! The operator's web surface of the queue workspace: a dashboard and a JSON API over any
//! backend (`Arc<dyn queue_core::Backend>`), as an axum [`Router`](axum::Router) to mount in
//! your own app, or as a standalone server ([`serve`]).
//!
//! ```
//! use std::sync::Arc;
//! use queue_memory::MemoryQueue;
//!
//! let queue = Arc::new(MemoryQueue::new());
//! let app: axum::Router = axum::Router::new()
//!     .nest("/admin/jobs", queue_admin::router(queue));   // the dashboard is at /admin/jobs
//! ```
//!
//! Several queues: `Admin::new().queue("billing", b).queue("email", e).router()`; the page
//! gets a queue switcher.
//!
//! # Authentication
//!
//! [`router`] and [`Admin::router`] check no credentials: put your app's own in front,
//! for example as a middleware on the nested router:
//!
//! ```
//! use std::sync::Arc;
//! use axum::{extract::Request, http::StatusCode, middleware::{self, Next}, response::Response};
//!
//! async fn operators_only(req: Request, next: Next) -> Result<Response, StatusCode> {
//!     // Your session or token check; this one wants a header.
//!     match req.headers().get("x-operator") {
//!         Some(_) => Ok(next.run(req).await),
//!         None => Err(StatusCode::UNAUTHORIZED),
//!     }
//! }
//!
//! let queue = Arc::new(queue_memory::MemoryQueue::new());
//! let admin = queue_admin::router(queue).layer(middleware::from_fn(operators_only));
//! let app: axum::Router = axum::Router::new().nest("/admin/jobs", admin);
//! ```
//!
//! The standalone server ([`serve`], [`Server`]) requires a bearer token or a user and
//! password ([`Auth`]) and refuses to start without one unless it listens on a loopback
//! address.
//!
//! # Cross-site requests
//!
//! Every request other than GET, HEAD and OPTIONS must carry the router's random token in
//! the `x-csrf-token` header (the page has it in `<meta name="csrf-token">`, scripts get it
//! from `GET api/csrf`), and is refused with 403 when the browser says it comes from
//! another site (`Sec-Fetch-Site`, or an `Origin` that is not the `Host`). GET requests
//! never change anything.
//!
//! # The JSON API
//!
//! Every route takes `?queue=NAME` (the first queue added when absent; 404
//! `unknown_queue` for a name that is not there). Times are RFC 3339.
//!
//! | route | what |
//! |---|---|
//! | `GET api/queues` | `{"queues": [names]}` |
//! | `GET api/stats` | counts per state, `paused`, `limits` (each kind's `limit`, `running`, `waiting`), `oldest_due`, `lag_seconds` |
//! | `GET api/jobs?state=&kind=&before=&limit=` | `{"jobs": [...], "next": id or null}`, newest first; `limit` 50 by default, at most 500; pass `next` as `before` for the older page |
//! | `GET api/jobs/{id}` | one job: payload, output, last error, attempts, timestamps, lease |
//! | `POST api/jobs/{id}/replay` | a failed job back to pending |
//! | `POST api/jobs/{id}/cancel` | cancels a pending job, asks a running one to stop |
//! | `POST api/jobs/{id}/run-now` | a job scheduled for later is due now |
//! | `DELETE api/jobs/{id}` | deletes a finished job |
//! | `POST api/replay-failed?kind=&limit=` | replays up to 500 failed jobs: `{"count", "more"}` |
//! | `POST api/purge?state=&older_than=&limit=` | deletes up to 500 finished jobs older than `older_than` seconds: `{"count", "more"}` |
//! | `GET api/paused` | `{"paused": [kinds]}` |
//! | `POST api/kinds/{kind}/pause`, `.../resume` | pauses or resumes a kind in the backend |
//! | `GET api/limits` | `{"limits": {kind: limit}}` |
//! | `PUT api/kinds/{kind}/limit` | replaces the kind's limit with the JSON body, e.g. `{"key_concurrency": 1, "rate": {"count": 100, "period": 60000}}` (periods in ms): `{"kind", "limit"}` |
//! | `DELETE api/kinds/{kind}/limit` | clears it: `{"kind", "limit": null}` |
//! | `GET api/csrf` | `{"header": "x-csrf-token", "token": ...}` |
//! | `GET metrics` | Prometheus text, with [`Admin::metrics`] (feature `prometheus`, on by default) |
//!
//! The one-job actions answer `{"id", "outcome"}`, the outcome one of `replayed`,
//! `cancelled`, `cancel_requested`, `due_now`, `deleted`. The bulk actions handle at most
//! [`MAX_BATCH`] jobs per call; call again while `more` is true.
//!
//! Errors are `{"error": {"code", "message"}}`: 400 `invalid_request`, 403 `csrf` or
//! `cross_site`, 404 `not_found` or `unknown_queue`, 409 `conflict` (the job's state does
//! not allow the action: replay of a job that has not failed, delete of a running one…),
//! 503 `unavailable` (a transient backend error), 500 `internal`. Messages never hold a
//! connection URL or password.

// docs.rs (`--cfg docsrs`) badges the items behind cargo features.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod admin;
mod api;
mod assets;
mod auth;
mod csrf;
mod error;
mod escape;
#[cfg(feature = "prometheus")]
mod metrics;
mod page;
mod serve;

pub use admin::{router, Admin};
pub use api::MAX_BATCH;
pub use auth::Auth;
pub use csrf::CSRF_HEADER;
pub use error::ApiError;
pub use serve::{serve, ServeError, ServeOptions, Server};
