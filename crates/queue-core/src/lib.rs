//! The core of the queue workspace: jobs, the queue traits every backend implements, the
//! retry policy, typed jobs, and the [`Worker`] pool that runs handlers.
//!
//! This crate holds no storage. Pick a backend crate (`queue-memory`, `queue-sql`,
//! `queue-redis`) and hand it to a [`Worker`]:
//!
//! ```ignore
//! use std::sync::Arc;
//! use queue_core::{Job, JobError, Queue, Worker};
//! use queue_memory::MemoryQueue;
//!
//! async fn send_email(job: Job) -> Result<(), JobError> {
//!     let to: String = job.args()?;
//!     println!("mail to {to}");
//!     Ok(())
//! }
//!
//! # async fn run() -> Result<(), queue_core::QueueError> {
//! let queue = Arc::new(MemoryQueue::new());
//! queue.enqueue(Job::new("email", serde_json::json!("a@example.com"))).await?;
//! let worker = Worker::new(queue.clone()).handle("email", send_email).concurrency(8).start()?;
//! // … later:
//! worker.shutdown(std::time::Duration::from_secs(10)).await;
//! # Ok(()) }
//! ```
//!
//! `use queue_core::prelude::*` brings the traits and types most code needs, including
//! [`EnqueueArgs`] for `queue.enqueue_args(value)`, the one-call enqueue of a typed job.
//!
//! Handlers take the job, or its typed arguments (a [`JobArgs`] type, usually
//! `#[derive(JobArgs)]`), then any of [`JobContext`] (attempt, deadline, a cancellation
//! token) and [`Data<T>`] (state shared through [`Worker::data`]); a value they return is
//! stored with the completed job ([`Job::output`]). [`Worker::run_until_idle`] runs what
//! is due, for tests.
//!
//! Limits stored in the backend ([`Queue::set_limit`] with a [`Limit`]) cap how many jobs
//! of a kind, or of each [concurrency key](NewJob::concurrency_key), run at once and how
//! often they start, across every worker of every process.
//!
//! The rules every backend follows (ordering, leases, fencing, backoff, dead-lettering,
//! unique keys, pause, limits, cancel requests) are checked by `queue-testkit`.

// docs.rs (`--cfg docsrs`) badges the items behind cargo features.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod args;
mod cancel_request;
mod completion;
mod enqueue_args;
mod error;
mod error_chain;
mod id;
mod job;
mod limit;
pub mod metrics;
mod notify;
pub mod prelude;
mod queue;
mod redact;
mod retry;
mod state;
pub mod worker;

pub use args::JobArgs;
pub use cancel_request::{CancelNotifier, CancelOutcome, CancelRequests, LeaseStatus};
pub use completion::{CheckedCompletions, Completion, MAX_OUTPUT_BYTES};
pub use enqueue_args::EnqueueArgs;
pub use error::{QueueError, Result};
pub use error_chain::ErrorChain;
pub use id::{ClaimToken, JobId};
pub use job::{
    validate_kind, validate_run_at, Job, Lease, NewJob, Prepared, RunAt, Unique,
    DEFAULT_MAX_ATTEMPTS, MAX_DELAY, MAX_KIND_LEN, MAX_PAYLOAD_BYTES, MAX_UNIQUE_KEY_LEN,
};
pub use limit::{
    validate_concurrency_key, Limit, LimitStats, Rate, MAX_CONCURRENCY_KEY_LEN, RATE_PERIODS,
};
pub use notify::{Notifier, Subscription};
pub use queue::{
    check_purge_state, enqueue_one, list_limit, Backend, Browsable, JobFilter, Queue, Replayable,
    Stats, DEFAULT_LIST_LIMIT, LEASE_EXPIRED,
};
pub use redact::{redact_url, scrub_secrets, url_secrets};
pub use retry::RetryPolicy;
pub use state::JobState;
pub use worker::{
    CancelReason, Data, DrainReport, DrainedJob, FromContext, Handler, HandlerFuture, JobContext,
    JobError, JobFinished, JobStarted, RunOutcome, ShutdownReport, Worker, WorkerHandle,
    WorkerHook, WorkerStats, DEFAULT_CANCEL_GRACE,
};

/// Default lease timeout of every backend.
pub const DEFAULT_LEASE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
