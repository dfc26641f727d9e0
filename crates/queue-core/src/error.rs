//! The one error type of the queue API.
//!
//! Each variant's `Display` says what failed; the cause, when there is one, is its
//! [`std::error::Error::source`] and is never repeated in the text. Print the whole chain
//! with [`crate::ErrorChain`] (or anyhow's `{:#}`).

use crate::JobId;

/// A driver's error, kept whole so that callers can downcast it.
type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

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
    /// The job was not handed out by a claim (it came from `get_job` or `list_jobs`), so
    /// it holds no lease to settle with.
    #[error("job {0} was not claimed: it holds no lease")]
    NotClaimed(JobId),
    /// A payload (or a job's output) could not be serialised to JSON, or deserialised
    /// into the expected type.
    #[error("payload (de)serialisation failed{}", for_job(*.id))]
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
    #[error("backend error")]
    Backend(#[source] Cause),
    /// The backend refused the operation for a reason that trying again cannot fix: the
    /// data broke a rule of the store (an invalid byte, a constraint), or a statement
    /// cannot run there. Not transient: retrying it would loop.
    #[error("backend rejected the operation")]
    Rejected(#[source] Cause),
    /// A schema migration script failed (the store's schema is not what this version of
    /// the crate expects, or the user lacks the rights to change it). Nothing of that
    /// migration was kept. Not transient: someone has to look.
    #[error("schema migration {version} failed")]
    Migration {
        /// The migration that failed.
        version: u32,
        /// What the store said.
        #[source]
        source: Cause,
    },
}

/// " for job <id>" when the job is known.
fn for_job(id: Option<JobId>) -> String {
    id.map(|id| format!(" for job {id}")).unwrap_or_default()
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

    /// Wraps the error of a failed migration script as [`QueueError::Migration`].
    pub fn migration<E: std::error::Error + Send + Sync + 'static>(version: u32, e: E) -> Self {
        QueueError::Migration {
            version,
            source: Box::new(e),
        }
    }

    /// True when retrying the same call later may succeed (connection trouble and the
    /// like): [`QueueError::Backend`] only. Bad input, bad configuration, a failed
    /// migration, a lost lease or a closed queue stay as they are however often the call
    /// is repeated.
    pub fn is_transient(&self) -> bool {
        match self {
            QueueError::Backend(_) => true,
            QueueError::InvalidJob(_)
            | QueueError::InvalidConfig(_)
            | QueueError::InvalidRequest(_)
            | QueueError::Full
            | QueueError::Closed
            | QueueError::LeaseLost(_)
            | QueueError::NotClaimed(_)
            | QueueError::Payload { .. }
            | QueueError::Corrupt { .. }
            | QueueError::Rejected(_)
            | QueueError::Migration { .. } => false,
        }
    }
}

/// Shorthand for `Result<T, QueueError>`.
pub type Result<T, E = QueueError> = std::result::Result<T, E>;
