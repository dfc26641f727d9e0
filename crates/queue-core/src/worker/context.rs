//! What a handler may know about the job it runs, and how it learns it should stop.

use std::sync::{Arc, OnceLock};

use time::OffsetDateTime;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::data::DataMap;
use crate::{Job, JobId};

/// Why a job's cancellation token fired.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CancelReason {
    /// The worker is shutting down: the token fires a grace period before the shutdown
    /// deadline (at once when the handle is dropped). A handler that then returns an
    /// error has its job returned to the queue without using an attempt.
    Shutdown,
    /// The handler ran past [`Worker::handler_timeout`](super::Worker::handler_timeout).
    /// The attempt fails with the timeout error unless the handler still returns `Ok`
    /// within the grace period.
    Timeout,
    /// The worker could not renew the job's lease in time; the handler is dropped
    /// shortly, before anyone else can claim the job. A handler that returns an error
    /// first has its job returned to the queue without using an attempt.
    LeaseLost,
    /// Someone asked for this job to be cancelled.
    Requested,
}

/// A job's cancellation token and the reason it fired, shared by the handler's
/// [`JobContext`] and the worker's table of held jobs.
#[derive(Clone, Default)]
pub(crate) struct Cancel(Arc<CancelInner>);

#[derive(Default)]
struct CancelInner {
    token: CancellationToken,
    reason: OnceLock<CancelReason>,
}

impl Cancel {
    /// Fires the token; the first reason given is the one kept.
    pub fn fire(&self, reason: CancelReason) {
        // The reason is set before the token fires, so a handler woken by the token
        // always finds it.
        let _ = self.0.reason.set(reason);
        self.0.token.cancel();
    }

    pub fn reason(&self) -> Option<CancelReason> {
        self.0.reason.get().copied()
    }

    pub fn is_fired(&self) -> bool {
        self.0.reason.get().is_some()
    }
}

/// What a handler knows about the job it runs: the job's identity, its attempts and
/// times, its deadline, and a token that fires when the handler should stop.
///
/// A handler asks for it by taking it as an argument after the job:
///
/// ```
/// use queue_core::{Job, JobContext, JobError};
///
/// async fn export(job: Job, ctx: JobContext) -> Result<(), JobError> {
///     for chunk in 0..100 {
///         if ctx.is_cancelled() {
///             // Shutdown or lease loss: the job goes back to the queue.
///             return Err(JobError::retry(format!("stopped at chunk {chunk}")));
///         }
///         tokio::select! {
///             _ = ctx.cancelled() => {}
///             _ = tokio::time::sleep(std::time::Duration::from_millis(10)) => {}
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
        &self.cancel.0.token
    }

    /// Waits until the token fires.
    pub async fn cancelled(&self) {
        self.cancel.0.token.cancelled().await
    }

    /// Whether the token has fired.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.0.token.is_cancelled()
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
    fn the_first_reason_is_kept() {
        let cancel = Cancel::default();
        assert!(!cancel.is_fired() && cancel.reason().is_none());
        cancel.fire(CancelReason::Timeout);
        cancel.fire(CancelReason::Shutdown);
        assert_eq!(cancel.reason(), Some(CancelReason::Timeout));
        assert!(cancel.0.token.is_cancelled());
    }

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
            last_error: None,
            lease: None,
        };
        let cancel = Cancel::default();
        let ctx = JobContext::new(&job, Arc::from("k"), None, cancel.clone(), Arc::default());
        let copy = ctx.clone();
        assert!(ctx.is_last_attempt());
        cancel.fire(CancelReason::Requested);
        assert!(copy.is_cancelled() && copy.token().is_cancelled());
        assert_eq!(copy.cancel_reason(), Some(CancelReason::Requested));
    }
}
