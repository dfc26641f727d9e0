//! The worker pool: claims jobs for the kinds it has handlers for and runs them.
//!
//! ```ignore
//! let worker = Worker::new(queue)
//!     .handle("email", send_email)
//!     .handle_typed::<Resize, _, _>(resize)
//!     .concurrency(8)
//!     .limit("resize", 2)
//!     .handler_timeout(Duration::from_secs(60))
//!     .start()?;
//! worker.pause("email");
//! worker.resume("email");
//! let report = worker.shutdown(Duration::from_secs(10)).await;
//! ```
//!
//! One task claims, in batches and ahead of the free slots (see [`Worker::prefetch`]); a
//! few tasks per claimed batch run the handlers side by side, refilling freed slots from
//! the jobs claimed ahead; one task records results in batches, and one extends the
//! leases of every job held.

mod batch;
mod dispatch;
mod handle;
mod handler;
mod heartbeat;
mod settle;
mod shared;

use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use handle::{ShutdownReport, WorkerHandle, WorkerStats};
pub use handler::JobError;

use crate::{validate_kind, Job, JobArgs, Queue, QueueError, Result};
use handler::Handler;
use shared::{Counters, RunState, Shared};

/// Builds and starts a pool of handlers over one queue.
///
/// A job runs in at most one place at a time: each handler runs only while the worker
/// knows its lease holds (renewed by heartbeats, stopped a tenth of a lease early when it
/// cannot be), and stopping the worker, by [`WorkerHandle::shutdown`] or by dropping the
/// handle, stops or waits for every handler before returning their jobs.
///
/// Claims are never cancelled, so stopping loses no claimed job. A claim whose reply the
/// backend loses (a dropped connection, a command timeout) costs its jobs at most one
/// attempt and one lease timeout: they run again once their leases run out, or fail as
/// "lease expired" if that was their last attempt (see [`Queue::dequeue_batch`]).
///
/// ```
/// # async fn demo(queue: std::sync::Arc<dyn queue_core::Queue>) -> queue_core::Result<()> {
/// use queue_core::{Job, JobError, Worker};
/// async fn send_email(job: Job) -> Result<(), JobError> { Ok(()) }
/// let worker = Worker::new(queue).handle("email", send_email).concurrency(8).start()?;
/// worker.shutdown(std::time::Duration::from_secs(5)).await;
/// # Ok(()) }
/// ```
pub struct Worker {
    queue: Arc<dyn Queue>,
    handlers: HashMap<String, Handler>,
    limits: HashMap<String, usize>,
    concurrency: usize,
    batch_size: usize,
    prefetch: Option<usize>,
    handler_timeout: Option<Duration>,
    poll_interval: Duration,
}

impl Worker {
    /// A worker over `queue` with no handlers yet, concurrency 10, polling every second
    /// when the backend sends no wake-ups.
    pub fn new(queue: Arc<dyn Queue>) -> Self {
        Worker {
            queue,
            handlers: HashMap::new(),
            limits: HashMap::new(),
            concurrency: 10,
            batch_size: 100,
            prefetch: None,
            handler_timeout: None,
            poll_interval: Duration::from_secs(1),
        }
    }

    /// Runs `f` for jobs of `kind`. The worker claims only kinds it has handlers for.
    pub fn handle<F, Fut>(mut self, kind: impl Into<String>, f: F) -> Self
    where
        F: Fn(Job) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = std::result::Result<(), JobError>> + Send + 'static,
    {
        self.handlers.insert(kind.into(), handler::untyped(f));
        self
    }

    /// Runs `f` with the decoded arguments of jobs of kind `T::KIND`. A payload that does
    /// not decode fails the job at once (it would not decode on retry either).
    pub fn handle_typed<T, F, Fut>(mut self, f: F) -> Self
    where
        T: JobArgs,
        F: Fn(T) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = std::result::Result<(), JobError>> + Send + 'static,
    {
        self.handlers
            .insert(T::KIND.to_string(), handler::typed::<T, F, Fut>(f));
        self
    }

    /// How many jobs run at once (default 10, at least 1).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// At most `n` jobs of `kind` run at once in this worker.
    pub fn limit(mut self, kind: impl Into<String>, n: usize) -> Self {
        self.limits.insert(kind.into(), n);
        self
    }

    /// Largest claim batch (default 100); claims are also bounded by free slots.
    pub fn batch_size(mut self, n: usize) -> Self {
        self.batch_size = n.max(1);
        self
    }

    /// How many jobs to claim ahead of the free slots (default: the smaller of the batch
    /// size and the concurrency). With a backlog, a slot that frees starts a job claimed
    /// ahead at once instead of waiting for a claim's round trip, and the next claim goes
    /// out while half of them still wait. Jobs claimed ahead hold their leases (renewed by
    /// the heartbeat) and are handed back untouched at shutdown or when their kind is
    /// paused; other workers cannot take them meanwhile. 0 claims only for free slots.
    pub fn prefetch(mut self, n: usize) -> Self {
        self.prefetch = Some(n);
        self
    }

    /// Fails an attempt whose handler runs longer than `d` (the handler is dropped).
    pub fn handler_timeout(mut self, d: Duration) -> Self {
        self.handler_timeout = Some(d);
        self
    }

    /// Longest sleep of an idle worker between looks at the queue (default 1 s). Wake-ups
    /// from the backend cut it short.
    pub fn poll_interval(mut self, d: Duration) -> Self {
        self.poll_interval = d.max(Duration::from_millis(1));
        self
    }

    /// Starts claiming and running jobs. Must be called inside a tokio runtime.
    ///
    /// Fails when no handler is registered, or a kind or limit is invalid.
    pub fn start(self) -> Result<WorkerHandle> {
        if self.handlers.is_empty() {
            return Err(QueueError::InvalidConfig(
                "a worker needs at least one handler".into(),
            ));
        }
        for kind in self.handlers.keys() {
            validate_kind(kind)?;
        }
        for (kind, n) in &self.limits {
            if *n == 0 {
                return Err(QueueError::InvalidConfig(format!(
                    "limit for {kind:?} must be at least 1"
                )));
            }
        }
        let mut kinds: Vec<String> = self.handlers.keys().cloned().collect();
        kinds.sort();
        let kind_index: HashMap<String, usize> = kinds
            .iter()
            .enumerate()
            .map(|(i, k)| (k.clone(), i))
            .collect();
        let mut handlers = self.handlers;
        let handlers: Vec<Handler> = kinds.iter().filter_map(|k| handlers.remove(k)).collect();
        let limits = kinds.iter().map(|k| self.limits.get(k).copied()).collect();
        let lanes = tokio::runtime::Handle::try_current()
            .map(|h| h.metrics().num_workers())
            .unwrap_or(1);
        let shared = Arc::new(Shared {
            queue: self.queue,
            kind_index,
            handlers,
            limits,
            concurrency: self.concurrency,
            batch_size: self.batch_size,
            prefetch: self
                .prefetch
                .unwrap_or(self.batch_size.min(self.concurrency)),
            lanes,
            handler_timeout: self.handler_timeout,
            poll_interval: self.poll_interval,
            state: Mutex::new(RunState {
                held: HashMap::default(),
                waiting: VecDeque::new(),
                started: 0,
                per_kind: vec![0; kinds.len()],
                paused: HashSet::new(),
            }),
            kinds,
            wake: tokio::sync::Notify::new(),
            changed: tokio::sync::Notify::new(),
            stopping: std::sync::atomic::AtomicBool::new(false),
            counters: Counters::default(),
            stopped: std::sync::atomic::AtomicU64::new(0),
            settle_tx: Mutex::new(None),
        });
        Ok(handle::start(shared))
    }
}
