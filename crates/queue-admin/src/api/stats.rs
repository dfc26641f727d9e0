//! `api/queues`, `api/stats`, `api/paused` and `api/csrf`: what the page polls.

use axum::extract::State;
use axum::Json;
use queue_core::{Backend, LimitStats};
use serde::Serialize;
use time::OffsetDateTime;

use super::params::Params;
use crate::admin::AppState;
use crate::error::ApiError;

/// The answer of `api/stats`: the counts, the lag, the paused kinds and the limits of one
/// queue.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct StatsView {
    pub queue: String,
    pub pending: u64,
    pub running: u64,
    pub completed: u64,
    pub failed: u64,
    pub cancelled: u64,
    pub paused: Vec<String>,
    /// The limited kinds, with their running jobs and the due jobs their limit holds back.
    pub limits: Vec<LimitStats>,
    /// When the longest-waiting due job fell due.
    #[serde(with = "time::serde::rfc3339::option")]
    pub oldest_due: Option<OffsetDateTime>,
    /// Its age in seconds: how far behind the workers are (0 when nothing is due).
    pub lag_seconds: f64,
    #[serde(with = "time::serde::rfc3339")]
    pub now: OffsetDateTime,
}

impl StatsView {
    /// Reads the stats and the oldest due job of `backend`.
    pub async fn load(name: &str, backend: &dyn Backend) -> Result<Self, ApiError> {
        let stats = backend.stats().await?;
        let oldest_due = backend.oldest_due().await?;
        let now = OffsetDateTime::now_utc();
        // Another machine's clock may run ahead of ours; a lag is never negative.
        let lag_seconds = oldest_due.map_or(0.0, |t| (now - t).as_seconds_f64().max(0.0));
        Ok(StatsView {
            queue: name.to_owned(),
            pending: stats.pending,
            running: stats.running,
            completed: stats.completed,
            failed: stats.failed,
            cancelled: stats.cancelled,
            paused: stats.paused,
            limits: stats.limits,
            oldest_due,
            lag_seconds,
            now,
        })
    }
}

/// `GET api/stats`.
pub(crate) async fn stats(
    State(app): State<AppState>,
    params: Params,
) -> Result<Json<StatsView>, ApiError> {
    let q = app.queue(params.queue())?;
    Ok(Json(StatsView::load(&q.name, q.backend.as_ref()).await?))
}

#[derive(Serialize)]
pub(crate) struct QueuesView {
    queues: Vec<String>,
}

/// `GET api/queues`: the queue names, the default first.
pub(crate) async fn queues(State(app): State<AppState>) -> Json<QueuesView> {
    Json(QueuesView {
        queues: app.queues.iter().map(|q| q.name.clone()).collect(),
    })
}

#[derive(Serialize)]
pub(crate) struct PausedView {
    pub paused: Vec<String>,
}

/// `GET api/paused`: the kinds paused in the backend, sorted.
pub(crate) async fn paused(
    State(app): State<AppState>,
    params: Params,
) -> Result<Json<PausedView>, ApiError> {
    let q = app.queue(params.queue())?;
    Ok(Json(PausedView {
        paused: q.backend.paused_kinds().await?,
    }))
}

#[derive(Serialize)]
pub(crate) struct CsrfView {
    header: &'static str,
    token: String,
}

/// `GET api/csrf`: the token a script must send with state-changing requests (another
/// site's page cannot read this answer).
pub(crate) async fn csrf(State(app): State<AppState>) -> Json<CsrfView> {
    Json(CsrfView {
        header: crate::csrf::CSRF_HEADER,
        token: app.csrf.value().to_owned(),
    })
}
