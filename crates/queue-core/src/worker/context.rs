//! What a handler may know about the job it runs, and how it learns it should stop.

use std::sync::Arc;

use time::OffsetDateTime;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::cancel::{Cancel, CancelReason};
use super::data::DataMap;
use crate::{Job, JobId};

/// What a handler knows about the job it runs: the job's identity, its attempts and
/// times, its deadline, and a token that fires when the handler should stop.
///
/// A handler asks for it by taking it as an argument after the job:
///
/// ```
/// use queue_core::{Job, JobContext, JobError};
///
/// async fn export_chunk(n: u32) { /* … */ }
///
/// async fn export(job: Job, ctx: JobContext) -> Result<(), JobError> {
///     for n in 0..100 {
///         tokio::select! {
///             // After a shutdown or a lost lease the job goes back to the queue; after
///             // a timeout the attempt fails as timed out.
///             _ = ctx.cancelled() => {
///                 return Err(JobError::retry(format!("stopped before chunk {n}")));
///             }
///             _ = export_chunk(n) => {}
///         }
///     }
///     Ok(())
/// }
/// ```
///
/// Cloning is cheap; clones share the token.
#[derive(Clone)]
pub struct JobContext {
    id: JobId,
    kind: Arc<str>,
    attempt: u32,
    max_attempts: u32,
    created_at: OffsetDateTime,
    scheduled_at: OffsetDateTime,
    deadline: Option<Instant>,
    cancel: Cancel,
    pub(crate) data: Arc<DataMap>,
}

impl JobContext {
    pub(crate) fn new(
        job: &Job,
        kind: Arc<str>,
        deadline: Option<Instant>,
        cancel: Cancel,
        data: Arc<DataMap>,
    ) -> Self {
        JobContext {
            id: job.id,
            kind,
            attempt: job.attempts,
            max_attempts: job.max_attempts,
            created_at: job.created_at,
            scheduled_at: job.scheduled_at,
            deadline,
            cancel,
            data,
        }
    }

    /// The job's id.
    pub fn id(&self) -> JobId {
        self.id
    }

    /// The job's kind.
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// Attempts used, this one included: 1 on the first run.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// Attempts allowed before the job is dead-lettered.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// Whether a failed attempt now dead-letters the job.
    pub fn is_last_attempt(&self) -> bool {
        self.attempt >= self.max_attempts
    }

    /// When the job was enqueued.
    pub fn created_at(&self) -> OffsetDateTime {
        self.created_at
    }

    /// When the job was due to run.
    pub fn scheduled_at(&self) -> OffsetDateTime {
        self.scheduled_at
    }

    /// When the handler times out, if the worker has a
    /// [`handler_timeout`](super::Worker::handler_timeout). The token fires then.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// The token that fires when the handler should stop (see [`CancelReason`]). Hand a
    /// clone (or a [`child_token`](CancellationToken::child_token)) to work the handler
    /// starts.
    pub fn token(&self) -> &CancellationToken {
        self.cancel.token()
    }

    /// Waits until the token fires.
    pub async fn cancelled(&self) {
        self.cancel.token().cancelled().await
    }

    /// Whether the token has fired.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_fired()
    }

    /// Why the token fired; `None` while it has not.
    pub fn cancel_reason(&self) -> Option<CancelReason> {
        self.cancel.reason()
    }
}

impl std::fmt::Debug for JobContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobContext")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("attempt", &self.attempt)
            .field("max_attempts", &self.max_attempts)
            .field("created_at", &self.created_at)
            .field("scheduled_at", &self.scheduled_at)
            .field("deadline", &self.deadline)
            .field("cancel_reason", &self.cancel_reason())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_token() {
        let job = Job {
            id: JobId::new(),
            kind: "k".into(),
            payload: serde_json::Value::Null,
            priority: 0,
            attempts: 2,
            max_attempts: 2,
            created_at: OffsetDateTime::UNIX_EPOCH,
            scheduled_at: OffsetDateTime::UNIX_EPOCH,
            state: crate::JobState::Running,
            unique_key: None,
            concurrency_key: None,
            last_error: None,
            lease: None,
            output: None,
            cancel_requested: false,
            finished_at: None,
        };
        let cancel = Cancel::default();
        let ctx = JobContext::new(&job, Arc::from("k"), None, cancel.clone(), Arc::default());
        let copy = ctx.clone();
        let early = ctx.token().clone();
        assert!(ctx.is_last_attempt());
        cancel.fire(CancelReason::Requested);
        assert!(copy.is_cancelled() && copy.token().is_cancelled() && early.is_cancelled());
        assert_eq!(copy.cancel_reason(), Some(CancelReason::Requested));
    }
}
