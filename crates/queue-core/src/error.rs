//! The one error type of the queue API.

use crate::JobId;

/// Everything a queue operation can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QueueError {
    /// The job was rejected before anything was written (empty kind, oversized payload…).
    #[error("invalid job: {0}")]
    InvalidJob(String),
    /// A configuration value is unusable (unsafe table name, zero lease…).
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// A request that cannot be carried out as asked, whatever the jobs: a purge of a
    /// state jobs do not finish in, a malformed filter. Nothing was changed.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The queue is at its capacity (from a non-waiting enqueue).
    #[error("queue is full")]
    Full,
    /// The queue was closed; it accepts no new jobs.
    #[error("queue is closed")]
    Closed,
    /// The claim token no longer matches: the lease expired and the job was reclaimed
    /// (or finished) meanwhile. Nothing was changed.
    #[error("lease lost for job {0}")]
    LeaseLost(JobId),
    /// A payload could not be turned into (or from) the expected type.
    #[error("payload does not fit: {source}")]
    Payload {
        /// The job, when known.
        id: Option<JobId>,
        /// What serde said.
        #[source]
        source: serde_json::Error,
    },
    /// A stored job could not be decoded; it is reported and set aside, never silently dropped.
    #[error("corrupt job: {reason}")]
    Corrupt {
        /// The job's id, when it could be read.
        id: Option<JobId>,
        /// What was wrong with it.
        reason: String,
    },
    /// The backend (database, Redis, …) failed in a way that may pass: a lost
    /// connection, a timeout, a server shutting down, a deadlock. Transient.
    #[error("backend error: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
    /// The backend refused the operation for a reason that trying again cannot fix: the
    /// data broke a rule of the store (an invalid byte, a constraint), or a statement
    /// cannot run there. Not transient: retrying it would loop.
    #[error("backend rejected the operation: {0}")]
    Rejected(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
}

impl QueueError {
    /// Wraps any driver error as [`QueueError::Backend`].
    pub fn backend<E: std::error::Error + Send + Sync + 'static>(e: E) -> Self {
        QueueError::Backend(Box::new(e))
    }

    /// Wraps a driver error that retrying cannot fix as [`QueueError::Rejected`].
    pub fn rejected<E: std::error::Error + Send + Sync + 'static>(e: E) -> Self {
        QueueError::Rejected(Box::new(e))
    }

    /// True when retrying the same call later may succeed (connection trouble and the
    /// like): [`QueueError::Backend`] only.
    pub fn is_transient(&self) -> bool {
        matches!(self, QueueError::Backend(_))
    }
}

/// Shorthand for `Result<T, QueueError>`.
pub type Result<T, E = QueueError> = std::result::Result<T, E>;
