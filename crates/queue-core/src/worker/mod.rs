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
//! Handlers take the job, then any of [`JobContext`] (the job's attempts, times, deadline
//! and cancellation token) and [`Data<T>`] (values shared with [`Worker::data`]); see
//! [`Handler`]. [`Worker::run_until_idle`] runs what is due and reports each outcome, for
//! tests.
//!
//! One task claims, in batches and ahead of the free slots (see [`Worker::prefetch`]); a
//! few tasks per claimed batch run the handlers side by side, refilling freed slots from
//! the jobs claimed ahead; one task records results in batches, and one extends the
//! leases of every job held.

mod batch;
mod cancel;
mod context;
mod data;
mod dispatch;
mod drain;
mod extract;
mod handle;
mod handler;
mod heartbeat;
mod hooks;
mod requested;
mod settle;
mod shared;
#[cfg(feature = "signal")]
mod signal;

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use cancel::CancelReason;
pub use context::JobContext;
pub use data::Data;
pub use drain::{DrainReport, DrainedJob};
pub use extract::{FromContext, Handler};
pub use handle::{ShutdownReport, WorkerHandle, WorkerStats};
pub use handler::{HandlerFuture, JobError};
pub use hooks::{JobFinished, JobStarted, RunOutcome, WorkerHook};

use crate::{validate_kind, Job, JobArgs, Queue, QueueError, Result};
use data::DataMap;
use extract::Registered;
use shared::{Counters, RunState, Shared};

/// How long a handler may run on after its cancellation token fired, by default.
pub const DEFAULT_CANCEL_GRACE: Duration = Duration::from_secs(5);

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
    handlers: HashMap<String, Registered>,
    data: DataMap,
    limits: HashMap<String, usize>,
    concurrency: usize,
    batch_size: usize,
    prefetch: Option<usize>,
    handler_timeout: Option<Duration>,
    cancel_grace: Duration,
    poll_interval: Duration,
    hooks: Vec<Arc<dyn WorkerHook>>,
    metrics: bool,
    gauges: Option<(Arc<dyn crate::Browsable>, Duration)>,
}

impl Worker {
    /// A worker over `queue` with no handlers yet, concurrency 10, polling every second
    /// when the backend sends no wake-ups.
    pub fn new(queue: Arc<dyn Queue>) -> Self {
        Worker {
            queue,
            handlers: HashMap::new(),
            data: DataMap::default(),
            limits: HashMap::new(),
            concurrency: 10,
            batch_size: 100,
            prefetch: None,
            handler_timeout: None,
            cancel_grace: DEFAULT_CANCEL_GRACE,
            poll_interval: Duration::from_secs(1),
            hooks: Vec::new(),
            metrics: false,
            gauges: None,
        }
    }

    /// Runs `f` for jobs of `kind`. The worker claims only kinds it has handlers for.
    ///
    /// `f` takes the [`Job`], then any of [`JobContext`] and [`Data<T>`] (up to three,
    /// in any order; see [`Handler`]):
    ///
    /// ```
    /// # fn demo(queue: std::sync::Arc<dyn queue_core::Queue>) {
    /// use queue_core::{Data, Job, JobContext, JobError, Worker};
    ///
    /// async fn plain(job: Job) -> Result<(), JobError> { Ok(()) }
    /// async fn with_context(job: Job, ctx: JobContext, prefix: Data<String>) -> Result<(), JobError> {
    ///     println!("{} attempt {} of {}", *prefix, ctx.attempt(), ctx.max_attempts());
    ///     Ok(())
    /// }
    ///
    /// let worker = Worker::new(queue)
    ///     .data(String::from("report"))
    ///     .handle("plain", plain)
    ///     .handle("ctx", with_context)
    ///     .handle("closure", |job: Job, ctx: JobContext| async move { Ok(()) });
    /// # }
    /// ```
    pub fn handle<F, Args>(mut self, kind: impl Into<String>, f: F) -> Self
    where
        F: Handler<Job, Args>,
    {
        self.handlers.insert(kind.into(), extract::untyped(f));
        self
    }

    /// Runs `f` with the decoded arguments of jobs of kind `T::KIND`, then any of
    /// [`JobContext`] and [`Data<T>`] as with [`Worker::handle`]. A payload that does not
    /// decode fails the job at once (it would not decode on retry either).
    pub fn handle_typed<T, F, Args>(mut self, f: F) -> Self
    where
        T: JobArgs,
        F: Handler<T, Args>,
    {
        self.handlers
            .insert(T::KIND.to_string(), extract::typed::<T, F, Args>(f));
        self
    }

    /// Shares `value` with every handler, which takes it as a [`Data<T>`] argument. One
    /// value per type: registering another of the same type replaces it.
    pub fn data<T: Clone + Send + Sync + 'static>(mut self, value: T) -> Self {
        self.data.insert(value);
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

    /// Fails an attempt whose handler runs longer than `d`: at `d` the job's cancellation
    /// token fires ([`CancelReason::Timeout`]) and the handler has the
    /// [cancel grace](Worker::cancel_grace) to return; then it is dropped. The attempt
    /// fails with the timeout error, unless the handler still returns `Ok` within the grace
    /// (its work is done: the job completes).
    pub fn handler_timeout(mut self, d: Duration) -> Self {
        self.handler_timeout = Some(d);
        self
    }

    /// How long a handler may run on after its cancellation token fired before it is
    /// dropped (default [`DEFAULT_CANCEL_GRACE`], 5 s). It applies to
    /// [handler timeouts](Worker::handler_timeout) (the handler runs up to the timeout
    /// plus the grace), to [`WorkerHandle::shutdown`] (tokens fire this long before its
    /// deadline) and to lost leases (tokens fire this long before the handler is stopped,
    /// at most a quarter of the lease timeout, so that the handler is still stopped before
    /// the lease can run out).
    pub fn cancel_grace(mut self, d: Duration) -> Self {
        self.cancel_grace = d;
        self
    }

    /// Longest sleep of an idle worker between looks at the queue (default 1 s). Wake-ups
    /// from the backend cut it short.
    pub fn poll_interval(mut self, d: Duration) -> Self {
        self.poll_interval = d.max(Duration::from_millis(1));
        self
    }

    /// Tells `hook` of every job this worker starts and every outcome it records (see
    /// [`WorkerHook`]). Hooks run in the order they were added.
    pub fn hook(mut self, hook: impl WorkerHook) -> Self {
        self.hooks.push(Arc::new(hook));
        self
    }

    /// Records counters and histograms of the jobs this worker runs through the
    /// `metrics` facade (see [`crate::metrics`]): starts, outcomes, run time, and wait
    /// from due to start, per kind. Install the recorder before [`Worker::start`]. Without
    /// the `metrics` feature it records nothing.
    pub fn metrics(mut self) -> Self {
        self.metrics = true;
        self
    }

    /// Samples the job counts per state and the age of the oldest due job from `source`
    /// (usually the queue itself) every `every`, as gauges (see [`crate::metrics`]),
    /// while the worker runs. Each sample is two cheap backend calls (`stats` and
    /// `oldest_due`); keep `every` at several seconds. With several workers over one
    /// queue, one sampling is enough. Without the `metrics` feature it samples nothing.
    pub fn gauges(mut self, source: Arc<dyn crate::Browsable>, every: Duration) -> Self {
        self.gauges = Some((source, every.max(Duration::from_millis(100))));
        self
    }

    /// Starts claiming and running jobs. Must be called inside a tokio runtime.
    ///
    /// Fails when no handler is registered, a kind or limit is invalid, or a handler asks
    /// for a [`Data<T>`] whose type was never registered with [`Worker::data`].
    pub fn start(self) -> Result<WorkerHandle> {
        Ok(handle::start(self.into_shared(false)?))
    }

    /// Runs every job of the handled kinds that is due now, and those that fall due while
    /// it runs (a retry with no backoff, a zero snooze), then returns what happened to
    /// each. Jobs due later are not waited for. Handlers run as in a started worker
    /// (concurrency, limits, timeouts, caught panics, heartbeats); it returns once a
    /// claim finds nothing due, no handler runs and every result is recorded.
    ///
    /// The way to test code that enqueues jobs: enqueue, run to idle, then look at the
    /// report or the queue. A job that keeps itself due (snoozing for zero, retrying
    /// forever without backoff) keeps it from returning.
    ///
    /// Fails as [`Worker::start`] does, or with the backend's error when a claim fails
    /// (after the jobs already running finished and were recorded). Dropping the future
    /// before it returns stops the handlers still running; their jobs wait out their
    /// leases.
    ///
    /// ```
    /// # async fn demo(queue: std::sync::Arc<dyn queue_core::Queue>) -> queue_core::Result<()> {
    /// use queue_core::{RunOutcome, Job, JobError, Worker};
    ///
    /// let id = queue.enqueue(Job::new("email", serde_json::json!("a@example.com"))).await?;
    /// let report = Worker::new(queue)
    ///     .handle("email", |_job: Job| async { Ok::<(), JobError>(()) })
    ///     .run_until_idle()
    ///     .await?;
    /// assert_eq!(report.completed, 1);
    /// assert_eq!(report.jobs[0].id, id);
    /// assert_eq!(report.jobs[0].outcome, RunOutcome::Completed);
    /// # Ok(()) }
    /// ```
    pub async fn run_until_idle(self) -> Result<DrainReport> {
        drain::run(self.into_shared(true)?).await
    }

    /// Checks the configuration and builds the state the worker's tasks share.
    fn into_shared(self, draining: bool) -> Result<Arc<Shared>> {
        if self.handlers.is_empty() {
            return Err(QueueError::InvalidConfig(
                "a worker needs at least one handler".into(),
            ));
        }
        for (kind, h) in &self.handlers {
            validate_kind(kind)?;
            if let Some(missing) = h.needs.iter().find(|k| !self.data.contains(k)) {
                return Err(QueueError::InvalidConfig(format!(
                    "the handler of {kind:?} takes Data<{}>, but no value of that type was \
                     registered with Worker::data",
                    missing.name
                )));
            }
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
        let handlers = kinds
            .iter()
            .filter_map(|k| handlers.remove(k))
            .map(|h| h.run)
            .collect();
        let limits = kinds.iter().map(|k| self.limits.get(k).copied()).collect();
        let lanes = tokio::runtime::Handle::try_current()
            .map(|h| h.metrics().num_workers())
            .unwrap_or(1);
        let prefetch = match (draining, self.prefetch) {
            // Only what is due now is claimed, for free slots.
            (true, _) => 0,
            (false, Some(n)) => n,
            (false, None) => self.batch_size.min(self.concurrency),
        };
        let queue_name: Arc<str> = Arc::from(self.queue.name());
        let kinds: Vec<Arc<str>> = kinds.into_iter().map(Arc::from).collect();
        #[cfg_attr(not(feature = "metrics"), allow(unused_mut))]
        let mut hooks = self.hooks;
        #[cfg(not(feature = "metrics"))]
        let _ = self.metrics;
        #[cfg(feature = "metrics")]
        if self.metrics {
            hooks.insert(
                0,
                Arc::new(crate::metrics::WorkerMetrics::new(&queue_name, &kinds)),
            );
        }
        Ok(Arc::new(Shared {
            gauges: if draining { None } else { self.gauges },
            queue_name,
            hooks,
            queue: self.queue,
            kind_index,
            handlers,
            data: Arc::new(self.data),
            limits,
            concurrency: self.concurrency,
            batch_size: self.batch_size,
            prefetch,
            lanes,
            handler_timeout: self.handler_timeout,
            cancel_grace: self.cancel_grace,
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
            log: draining.then(|| Mutex::new(Vec::new())),
        }))
    }
}
