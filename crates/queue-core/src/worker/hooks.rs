//! Lifecycle hooks: what a worker tells observers as jobs start and finish. Metrics are
//! built on them (`Worker::metrics`, feature `metrics`); users attach their own with
//! [`Worker::hook`](super::Worker::hook).

use std::time::Duration;

use crate::JobId;

/// How a run of a job ended, as recorded by the backend.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RunOutcome {
    /// The handler succeeded; the job is completed.
    Completed,
    /// A failed attempt (an error, a panic, a timeout) with attempts left: the job is
    /// scheduled again with backoff. Holds the error.
    Retried(String),
    /// A failed attempt with no attempt left: the job is dead-lettered. Holds the error.
    Failed(String),
    /// The handler discarded the job (dead-lettered at once). Holds the reason.
    Discarded(String),
    /// The handler snoozed the job for this long, without using an attempt.
    Snoozed(Duration),
    /// A cancel request stopped the run: the job ends `cancelled`.
    Cancelled,
    /// The run was cut short and the job went back to the queue without using an
    /// attempt: a shutdown, or a lost lease (the job then waits out its lease).
    Returned,
}

impl RunOutcome {
    /// A short lowercase name: `completed`, `retried`, `failed`, `discarded`, `snoozed`,
    /// `cancelled` or `returned`.
    pub fn as_str(&self) -> &'static str {
        match self {
            RunOutcome::Completed => "completed",
            RunOutcome::Retried(_) => "retried",
            RunOutcome::Failed(_) => "failed",
            RunOutcome::Discarded(_) => "discarded",
            RunOutcome::Snoozed(_) => "snoozed",
            RunOutcome::Cancelled => "cancelled",
            RunOutcome::Returned => "returned",
        }
    }
}

/// A job whose handler is about to run.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct JobStarted<'a> {
    /// The queue's name ([`Queue::name`](crate::Queue::name)).
    pub queue: &'a str,
    /// The job.
    pub id: JobId,
    /// Its kind.
    pub kind: &'a str,
    /// This run's attempt (1 on the first run).
    pub attempt: u32,
    /// How long it waited from when it fell due (its `scheduled_at`) to this start. The
    /// due time is on the backend's clock and the start on this host's: skew between
    /// them shows here, and a negative wait reads as zero.
    pub waited: Duration,
}

/// A job run whose outcome the backend recorded.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct JobFinished<'a> {
    /// The queue's name ([`Queue::name`](crate::Queue::name)).
    pub queue: &'a str,
    /// The job.
    pub id: JobId,
    /// Its kind.
    pub kind: &'a str,
    /// This run's attempt (1 on the first run).
    pub attempt: u32,
    /// How it ended.
    pub outcome: &'a RunOutcome,
    /// How long the handler ran.
    pub ran: Duration,
}

/// Observes the jobs a worker runs. Both methods default to doing nothing.
///
/// Called on the worker's own tasks, so keep them quick (count, record, send to a
/// channel): a slow hook slows the worker. `job_started` runs just before each handler;
/// `job_finished` once the backend has recorded the run's outcome (a run whose outcome
/// could not be recorded, because the backend failed, has no `job_finished`). Jobs
/// handed back without running (at shutdown, or paused while claimed ahead) have
/// neither.
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use queue_core::worker::{JobFinished, RunOutcome, WorkerHook};
///
/// #[derive(Default)]
/// struct CountFailures(AtomicU64);
///
/// impl WorkerHook for CountFailures {
///     fn job_finished(&self, job: &JobFinished<'_>) {
///         if matches!(job.outcome, RunOutcome::Failed(_) | RunOutcome::Discarded(_)) {
///             self.0.fetch_add(1, Ordering::Relaxed);
///         }
///     }
/// }
/// # fn demo(queue: std::sync::Arc<dyn queue_core::Queue>) {
/// let worker = queue_core::Worker::new(queue).hook(CountFailures::default());
/// # }
/// ```
pub trait WorkerHook: Send + Sync + 'static {
    /// A job's handler is about to run.
    fn job_started(&self, job: &JobStarted<'_>) {
        let _ = job;
    }

    /// A run's outcome was recorded.
    fn job_finished(&self, job: &JobFinished<'_>) {
        let _ = job;
    }
}
