//! `api/jobs` (a page of jobs, newest first) and `api/jobs/{id}` (one job in full).

use axum::extract::{Path, State};
use axum::Json;
use queue_core::{Backend, Job, JobFilter, JobId, JobState};
use serde::Serialize;
use time::OffsetDateTime;

use super::params::{parse_id, Params};
use crate::admin::AppState;
use crate::error::ApiError;

/// Jobs per list page when the request names no limit.
pub const DEFAULT_PAGE: usize = 50;

/// The longest last error a list row carries; the job itself has all of it.
const ERROR_PREVIEW_CHARS: usize = 300;

/// One page of a list, and the cursor of the next (older) one.
pub(crate) struct Page {
    pub jobs: Vec<Job>,
    pub next: Option<JobId>,
}

impl Page {
    /// Up to `limit` jobs matching `filter`; one more is asked for to learn whether an
    /// older page exists, so `next` is `None` exactly on the last page.
    pub async fn load(backend: &dyn Backend, filter: JobFilter) -> Result<Self, ApiError> {
        let limit = filter.limit;
        let mut jobs = backend.list(&filter.limit(limit + 1)).await?;
        let next = if jobs.len() > limit {
            jobs.truncate(limit);
            jobs.last().map(|j| j.id)
        } else {
            None
        };
        Ok(Page { jobs, next })
    }
}

/// A job in a list: everything but its payload and output, which may be large.
#[derive(Serialize)]
pub(crate) struct JobSummary {
    id: JobId,
    kind: String,
    state: JobState,
    priority: i32,
    attempts: u32,
    max_attempts: u32,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    scheduled_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    finished_at: Option<OffsetDateTime>,
    /// The start of the last error.
    last_error: Option<String>,
    cancel_requested: bool,
}

impl From<Job> for JobSummary {
    fn from(j: Job) -> Self {
        JobSummary {
            id: j.id,
            kind: j.kind,
            state: j.state,
            priority: j.priority,
            attempts: j.attempts,
            max_attempts: j.max_attempts,
            created_at: j.created_at,
            scheduled_at: j.scheduled_at,
            finished_at: j.finished_at,
            last_error: j.last_error.map(|e| preview(&e, ERROR_PREVIEW_CHARS)),
            cancel_requested: j.cancel_requested,
        }
    }
}

/// A job in full, as `api/jobs/{id}` shows it.
#[derive(Serialize)]
pub(crate) struct JobView {
    id: JobId,
    kind: String,
    state: JobState,
    priority: i32,
    attempts: u32,
    max_attempts: u32,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    scheduled_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    finished_at: Option<OffsetDateTime>,
    unique_key: Option<String>,
    last_error: Option<String>,
    payload: serde_json::Value,
    output: Option<serde_json::Value>,
    lease: Option<LeaseView>,
    cancel_requested: bool,
}

/// The lease of a running job: when it runs out unless its worker extends it.
#[derive(Serialize)]
struct LeaseView {
    #[serde(with = "time::serde::rfc3339")]
    expires_at: OffsetDateTime,
}

impl From<Job> for JobView {
    fn from(j: Job) -> Self {
        JobView {
            id: j.id,
            kind: j.kind,
            state: j.state,
            priority: j.priority,
            attempts: j.attempts,
            max_attempts: j.max_attempts,
            created_at: j.created_at,
            scheduled_at: j.scheduled_at,
            finished_at: j.finished_at,
            unique_key: j.unique_key,
            last_error: j.last_error,
            payload: j.payload,
            output: j.output,
            lease: j.lease.map(|l| LeaseView {
                expires_at: l.expires_at,
            }),
            cancel_requested: j.cancel_requested,
        }
    }
}

#[derive(Serialize)]
pub(crate) struct ListView {
    jobs: Vec<JobSummary>,
    /// Pass as `before` for the next (older) page; `null` on the last page.
    next: Option<JobId>,
}

/// The filter a list request asks for: `state`, `kind`, `before`, `limit`.
pub(crate) fn filter_of(params: &Params, default_limit: usize) -> Result<JobFilter, ApiError> {
    let mut filter = JobFilter::new().limit(params.limit(default_limit)?);
    filter.state = params.state("state")?;
    filter.kind = params.get("kind").map(str::to_owned);
    filter.before = params.job_id("before")?;
    Ok(filter)
}

/// `GET api/jobs?state=&kind=&before=&limit=`.
pub(crate) async fn list(
    State(app): State<AppState>,
    params: Params,
) -> Result<Json<ListView>, ApiError> {
    let q = app.queue(params.queue())?;
    let page = Page::load(q.backend.as_ref(), filter_of(&params, DEFAULT_PAGE)?).await?;
    Ok(Json(ListView {
        jobs: page.jobs.into_iter().map(JobSummary::from).collect(),
        next: page.next,
    }))
}

/// `GET api/jobs/{id}`.
pub(crate) async fn get(
    State(app): State<AppState>,
    Path(id): Path<String>,
    params: Params,
) -> Result<Json<JobView>, ApiError> {
    let q = app.queue(params.queue())?;
    let job = find(q.backend.as_ref(), &id).await?;
    Ok(Json(JobView::from(job)))
}

/// The job `id` names, or 400 for a malformed id and 404 for an unknown one.
pub(crate) async fn find(backend: &dyn Backend, id: &str) -> Result<Job, ApiError> {
    let id = parse_id(id)?;
    backend
        .get_job(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no job {id}")))
}

/// The first `max` characters of `s`, with an ellipsis when cut.
pub(crate) fn preview(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &s[..at]),
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::preview;

    #[test]
    fn previews_cut_on_characters() {
        assert_eq!(preview("abc", 3), "abc");
        assert_eq!(preview("abcd", 3), "abc…");
        assert_eq!(preview("ééé", 2), "éé…");
        assert_eq!(preview("", 2), "");
    }
}
