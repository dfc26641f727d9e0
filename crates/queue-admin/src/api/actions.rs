//! The actions: replay, cancel, run now, delete, bulk replay, purge, pause and resume.
//! Each is a POST (DELETE for a delete) and is logged, as an operator's change to the
//! queue should be.

use std::time::Duration;

use axum::extract::{Path, State};
use axum::Json;
use queue_core::{Backend, CancelOutcome, JobFilter, JobId, JobState};
use serde::Serialize;

use super::params::{parse_id, Params};
use super::MAX_BATCH;
use crate::admin::{AppState, NamedQueue};
use crate::error::ApiError;

/// The answer of the one-job actions.
#[derive(Serialize)]
pub(crate) struct Done {
    id: JobId,
    /// What happened: `replayed`, `cancelled`, `cancel_requested`, `due_now`, `deleted`.
    outcome: &'static str,
}

/// The answer of the bounded bulk actions.
#[derive(Serialize)]
pub(crate) struct Batch {
    /// How many jobs this call changed.
    count: u64,
    /// Whether matching jobs remain: call again to go on.
    more: bool,
}

/// The answer of pause and resume.
#[derive(Serialize)]
pub(crate) struct Paused {
    paused: Vec<String>,
}

/// 404 when the job is gone, else 409 saying which state it is in and what the action
/// needs. Called after the backend declined the action, so this is why.
async fn why_not(backend: &dyn Backend, id: JobId, action: &str, needs: &str) -> ApiError {
    match backend.get_job(id).await {
        Ok(None) => ApiError::not_found(format!("no job {id}")),
        Ok(Some(job)) => ApiError::conflict(format!(
            "cannot {action} job {id}: it is {}; {needs}",
            job.state
        )),
        Err(e) => e.into(),
    }
}

/// `outcome` when the backend `changed` the job, else why it did not: the answer of the
/// actions that say only whether they changed it.
async fn answer(
    q: &NamedQueue,
    id: JobId,
    changed: bool,
    outcome: &'static str,
    action: &str,
    needs: &str,
) -> Result<Json<Done>, ApiError> {
    if changed {
        Ok(done(q, id, outcome))
    } else {
        Err(why_not(q.backend.as_ref(), id, action, needs).await)
    }
}

fn done(q: &NamedQueue, id: JobId, outcome: &'static str) -> Json<Done> {
    tracing::info!(queue = %q.name, job = %id, outcome, "queue admin action");
    Json(Done { id, outcome })
}

/// `POST api/jobs/{id}/replay`: a failed job back to pending, attempts reset.
pub(crate) async fn replay(
    State(app): State<AppState>,
    Path(id): Path<String>,
    params: Params,
) -> Result<Json<Done>, ApiError> {
    let q = app.queue(params.queue())?;
    let id = parse_id(&id)?;
    let changed = q.backend.replay(id).await?;
    answer(
        q,
        id,
        changed,
        "replayed",
        "replay",
        "only failed jobs are replayed",
    )
    .await
}

/// `POST api/jobs/{id}/cancel`: a pending job is cancelled, a running one asked to stop.
pub(crate) async fn cancel(
    State(app): State<AppState>,
    Path(id): Path<String>,
    params: Params,
) -> Result<Json<Done>, ApiError> {
    let q = app.queue(params.queue())?;
    let id = parse_id(&id)?;
    match q.backend.cancel(id).await? {
        CancelOutcome::Cancelled => Ok(done(q, id, "cancelled")),
        CancelOutcome::Requested => Ok(done(q, id, "cancel_requested")),
        CancelOutcome::Unchanged => Err(why_not(
            q.backend.as_ref(),
            id,
            "cancel",
            "only pending and running jobs are cancelled",
        )
        .await),
    }
}

/// `POST api/jobs/{id}/run-now`: a job scheduled for later is made due now.
pub(crate) async fn run_now(
    State(app): State<AppState>,
    Path(id): Path<String>,
    params: Params,
) -> Result<Json<Done>, ApiError> {
    let q = app.queue(params.queue())?;
    let id = parse_id(&id)?;
    let changed = q.backend.run_now(id).await?;
    answer(
        q,
        id,
        changed,
        "due_now",
        "run now",
        "only pending jobs scheduled for later are moved up",
    )
    .await
}

/// `DELETE api/jobs/{id}`: a finished job is deleted.
pub(crate) async fn delete(
    State(app): State<AppState>,
    Path(id): Path<String>,
    params: Params,
) -> Result<Json<Done>, ApiError> {
    let q = app.queue(params.queue())?;
    let id = parse_id(&id)?;
    let changed = q.backend.delete(id).await?;
    answer(
        q,
        id,
        changed,
        "deleted",
        "delete",
        "only completed, failed and cancelled jobs are deleted (cancel it first)",
    )
    .await
}

/// `POST api/replay-failed?kind=&limit=`: replays up to `limit` (at most 500) failed jobs,
/// newest first, of one kind or all.
pub(crate) async fn replay_failed(
    State(app): State<AppState>,
    params: Params,
) -> Result<Json<Batch>, ApiError> {
    let q = app.queue(params.queue())?;
    let kind = params.get("kind");
    let failed = |limit| {
        let mut filter = JobFilter::new().state(JobState::Failed).limit(limit);
        filter.kind = kind.map(str::to_owned);
        filter
    };
    let jobs = q.backend.list(&failed(params.limit(MAX_BATCH)?)).await?;
    let mut count = 0;
    for job in jobs {
        // A job replayed or deleted meanwhile by someone else is just not counted.
        if q.backend.replay(job.id).await? {
            count += 1;
        }
    }
    let more = !q.backend.list(&failed(1)).await?.is_empty();
    tracing::info!(queue = %q.name, kind, count, more, "queue admin: replayed failed jobs");
    Ok(Json(Batch { count, more }))
}

/// `POST api/purge?state=&older_than=&limit=`: deletes up to `limit` (at most 500) jobs in
/// a final `state` that finished more than `older_than` seconds ago. Both are required,
/// so that no purge happens by a forgotten parameter.
pub(crate) async fn purge(
    State(app): State<AppState>,
    params: Params,
) -> Result<Json<Batch>, ApiError> {
    let q = app.queue(params.queue())?;
    let state = params
        .state("state")?
        .ok_or_else(|| ApiError::invalid("purge needs state=completed, failed or cancelled"))?;
    if !state.is_final() {
        return Err(ApiError::invalid(format!(
            "cannot purge {state} jobs: only completed, failed and cancelled jobs are purged"
        )));
    }
    let older_than = params
        .number("older_than")?
        .ok_or_else(|| ApiError::invalid("purge needs older_than (seconds; 0 for all)"))?;
    let limit = params.limit(MAX_BATCH)?;
    let count = q
        .backend
        .purge(state, Duration::from_secs(older_than), limit)
        .await?;
    let more = count >= limit as u64;
    tracing::info!(queue = %q.name, %state, older_than, count, "queue admin: purged jobs");
    Ok(Json(Batch { count, more }))
}

/// `POST api/kinds/{kind}/pause`: no worker claims jobs of `kind` until it is resumed.
pub(crate) async fn pause(
    State(app): State<AppState>,
    Path(kind): Path<String>,
    params: Params,
) -> Result<Json<Paused>, ApiError> {
    let q = app.queue(params.queue())?;
    q.backend.pause_kind(&kind).await?;
    tracing::info!(queue = %q.name, kind, "queue admin: paused kind");
    Ok(Json(Paused {
        paused: q.backend.paused_kinds().await?,
    }))
}

/// `POST api/kinds/{kind}/resume`.
pub(crate) async fn resume(
    State(app): State<AppState>,
    Path(kind): Path<String>,
    params: Params,
) -> Result<Json<Paused>, ApiError> {
    let q = app.queue(params.queue())?;
    q.backend.resume_kind(&kind).await?;
    tracing::info!(queue = %q.name, kind, "queue admin: resumed kind");
    Ok(Json(Paused {
        paused: q.backend.paused_kinds().await?,
    }))
}
