//! The error type of schedule registration and of starting a scheduler.

use std::time::Duration;

use queue_core::QueueError;

use crate::ScheduleId;

/// Why a schedule could not be registered, or a scheduler could not start.
///
/// Registration checks everything it can up front, so a schedule that registers never
/// fails later for a reason it could have reported here.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScheduleError {
    /// `register` was called before `.job(kind, payload)` (or `.job_args`).
    #[error("schedule has no job: call .job(kind, payload) before .register()")]
    MissingJob,
    /// The job would be rejected by every queue: bad kind (empty, too long, control
    /// characters, surrounding spaces), oversized payload, over-long unique key…
    #[error("invalid scheduled job")]
    InvalidJob(#[source] QueueError),
    /// The payload could not be turned into JSON.
    #[error("payload serialisation to JSON failed")]
    Payload(#[source] serde_json::Error),
    /// `every(Duration::ZERO)`.
    #[error("interval must be longer than zero")]
    ZeroInterval,
    /// An interval the tick grid cannot represent: not a whole number of milliseconds, or
    /// too long to count in milliseconds since 1970.
    #[error("invalid interval {interval:?}: {reason}")]
    InvalidInterval {
        /// The interval given.
        interval: Duration,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The cron expression does not parse.
    #[error("invalid cron spec {spec:?}: {reason}")]
    InvalidCron {
        /// The expression given.
        spec: String,
        /// What the parser said.
        reason: String,
    },
    /// The cron expression parses but names no real date, such as `0 0 30 2 *`.
    #[error("cron spec {spec:?} never fires")]
    NeverFires {
        /// The expression given.
        spec: String,
    },
    /// `.time_zone(..)` was set on an interval schedule; intervals are measured in real
    /// elapsed time and have no zone.
    #[error("a time zone only applies to cron schedules")]
    TimeZoneOnInterval,
    /// `.catch_up(n)` asked for more than [`crate::MAX_CATCH_UP`] ticks.
    #[error("catch_up({requested}) is over the limit of {max}")]
    CatchUpTooLarge {
        /// The count asked for.
        requested: u32,
        /// The largest accepted.
        max: u32,
    },
    /// `.on_queue(index)` names no queue of the scheduler.
    #[error("queue index {index} is out of range: the scheduler has {queues} queue(s)")]
    UnknownQueue {
        /// The index given.
        index: usize,
        /// How many queues the scheduler holds.
        queues: usize,
    },
    /// An explicit schedule id is empty, too long or has control characters or spaces.
    #[error("invalid schedule id {0:?}: it must be 1..={max} bytes without whitespace or control characters", max = crate::MAX_ID_LEN)]
    InvalidId(String),
    /// Another schedule of this scheduler already has this id.
    #[error("a schedule with id {0} is already registered")]
    DuplicateId(ScheduleId),
    /// `start` was called while the scheduler is already running.
    #[error("the scheduler is already running")]
    AlreadyRunning,
    /// `start` was called outside a Tokio runtime.
    #[error("the scheduler must be started from within a Tokio runtime")]
    NoRuntime,
}
