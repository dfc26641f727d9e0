//! The traits every backend implements.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{
    CancelOutcome, CancelRequests, Completion, Job, JobId, JobState, Lease, LeaseStatus, Limit,
    LimitStats, NewJob, QueueError, Result, Subscription,
};

/// The reason recorded when a lease runs out on a job with no attempts left.
pub const LEASE_EXPIRED: &str = "lease expired";

/// A job queue: enqueue, claim, and settle jobs.
///
/// Usable as `Arc<dyn Queue>`. Batch forms have default implementations that loop;
/// backends override them to use one round trip.
#[async_trait]
pub trait Queue: Send + Sync {
    /// Validates `job`, fills its defaults and stores it; returns its id. For a job whose
    /// unique key is held, stores nothing and returns the holder's id.
    async fn enqueue(&self, job: NewJob) -> Result<JobId>;

    /// Enqueues many jobs, atomically where the store allows it. Ids come back in order.
    async fn enqueue_batch(&self, jobs: Vec<NewJob>) -> Result<Vec<JobId>> {
        let mut ids = Vec::with_capacity(jobs.len());
        for job in jobs {
            ids.push(self.enqueue(job).await?);
        }
        Ok(ids)
    }

    /// Claims the best eligible job of one of `kinds` (any kind when empty): highest
    /// priority, then earliest `scheduled_at`, then lowest id. Counts an attempt and
    /// returns it with a fresh [`Lease`]. `Ok(None)` when nothing is eligible.
    async fn dequeue(&self, kinds: &[&str]) -> Result<Option<Job>> {
        Ok(self.dequeue_batch(kinds, 1).await?.pop())
    }

    /// Claims up to `max` jobs at once, in claim order.
    ///
    /// A claim counts an attempt and leases each job on the backend before the reply
    /// comes back. If the reply is lost (the connection drops, a command times out, the
    /// caller drops the future), the jobs stay claimed by nobody until their leases run
    /// out; they are then reclaimed with that attempt used. So a lost claim reply costs
    /// each of its jobs at most one attempt and one lease timeout, and a job with no
    /// attempt left (`max_attempts(1)`, or its last retry) fails as "lease expired"
    /// without having run. Callers should not cancel a claim in flight; the [`Worker`]
    /// never does.
    ///
    /// [`Worker`]: crate::Worker
    async fn dequeue_batch(&self, kinds: &[&str], max: usize) -> Result<Vec<Job>>;

    /// Completes a claimed job. A stale lease changes nothing and fails with
    /// [`crate::QueueError::LeaseLost`].
    async fn ack(&self, lease: &Lease) -> Result<()> {
        match self.ack_batch(std::slice::from_ref(lease)).await?.pop() {
            Some(r) => r,
            None => Ok(()),
        }
    }

    /// Completes many claimed jobs; one result per lease, in order. The outer error is for
    /// the call as a whole (connection lost…).
    async fn ack_batch(&self, leases: &[Lease]) -> Result<Vec<Result<()>>>;

    /// Completes many claimed jobs like [`ack_batch`](Self::ack_batch), storing each one's
    /// output with it, readable as [`Job::output`] for as long as completed jobs are
    /// retained. One result per entry, in order; a stale lease changes nothing and fails
    /// with [`QueueError::LeaseLost`].
    ///
    /// An output longer than the backend's limit ([`crate::MAX_OUTPUT_BYTES`] unless
    /// configured otherwise), holding a NUL character, or not readable as JSON (see
    /// [`Completion::checked_output`]) fails its entry with [`QueueError::InvalidJob`] and
    /// changes nothing: the job stays running under its lease, for the caller to complete
    /// without the output, or to fail it. Entries without output cost what `ack_batch`
    /// costs.
    ///
    /// ```
    /// use queue_core::{Completion, Queue};
    ///
    /// # async fn demo(queue: &dyn Queue) -> queue_core::Result<()> {
    /// if let Some(job) = queue.dequeue(&["resize"]).await? {
    ///     let done = Completion::with_output(job.lease()?, &serde_json::json!({"px": 640}))?;
    ///     for result in queue.complete_batch(&[done]).await? {
    ///         result?;
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    async fn complete_batch(&self, done: &[Completion]) -> Result<Vec<Result<()>>>;

    /// Records a failed attempt: re-schedules with the queue's backoff, or moves the job to
    /// `failed` when its attempts are used up. A job with a cancel request (see
    /// [`Queue::cancel`]) ends `cancelled` instead.
    async fn nack(&self, lease: &Lease, error: &str) -> Result<()>;

    /// Fails the job now (dead-letters it with `reason`), whatever attempts remain. A job
    /// with a cancel request ends `cancelled` instead.
    async fn discard(&self, lease: &Lease, reason: &str) -> Result<()>;

    /// Puts a claimed job back to run after `delay`, without using up an attempt. A job
    /// with a cancel request ends `cancelled` instead.
    async fn snooze(&self, lease: &Lease, delay: Duration) -> Result<()>;

    /// Extends the leases of running jobs by the lease timeout. One status per lease, in
    /// order: [`LeaseStatus::Held`], [`LeaseStatus::Lost`], or
    /// [`LeaseStatus::CancelRequested`] (held and extended, but the job should stop).
    async fn heartbeat(&self, leases: &[Lease]) -> Result<Vec<LeaseStatus>>;

    /// Cancels a job.
    ///
    /// A pending job is cancelled at once ([`CancelOutcome::Cancelled`]). On a running job
    /// a cancel request is recorded ([`CancelOutcome::Requested`], also when one already
    /// was): the worker holding it learns of it (through [`Queue::cancel_requests`] where
    /// the backend announces requests, and through its heartbeat in any case) and fires
    /// the handler's token with [`CancelReason::Requested`](crate::CancelReason). Unless
    /// the handler still succeeds, the job then ends `cancelled` however its attempt ends:
    /// an error, a snooze, being stopped, or its lease running out. Finished and unknown
    /// jobs are left alone ([`CancelOutcome::Unchanged`]).
    ///
    /// ```
    /// use queue_core::{CancelOutcome, Queue};
    ///
    /// # async fn demo(queue: &dyn Queue, id: queue_core::JobId) -> queue_core::Result<()> {
    /// match queue.cancel(id).await? {
    ///     CancelOutcome::Cancelled => println!("it will never run"),
    ///     CancelOutcome::Requested => println!("its worker was asked to stop it"),
    ///     CancelOutcome::Unchanged => println!("already finished, or unknown"),
    /// }
    /// # Ok(()) }
    /// ```
    async fn cancel(&self, id: JobId) -> Result<CancelOutcome>;

    /// Returns expired leases to the queue now (or fails them with "lease expired" when
    /// their attempts are used up, or cancels them when a cancel was requested). Backends
    /// also do this on their own timer; this is for callers who want it at once. Returns how
    /// many were reclaimed.
    async fn reclaim(&self) -> Result<u64>;

    /// How long a claim holds a job before it may be reclaimed.
    fn lease_timeout(&self) -> Duration;

    /// Changes the lease timeout of future claims and heartbeats; safe while workers run.
    fn set_lease_timeout(&self, timeout: Duration);

    /// A subscription woken when work may be ready. The default never wakes, so
    /// workers poll.
    fn subscribe(&self) -> Subscription {
        Subscription::none()
    }

    /// Ids of running jobs someone asked to cancel (see [`Queue::cancel`]), announced by
    /// any handle of this queue, in any process the backend reaches. Best effort: workers
    /// also learn of requests from heartbeats. The default never yields.
    fn cancel_requests(&self) -> CancelRequests {
        CancelRequests::none()
    }

    /// A hint of how soon a job of `kinds` may become eligible (a delayed job, an expiring
    /// lease), when the backend knows it cheaply. Idle workers sleep no longer than this.
    async fn next_due(&self, _kinds: &[&str]) -> Option<Duration> {
        None
    }

    /// Pauses `kind` in the backend: from now on no claim, by any worker of any process
    /// sharing this queue, returns a job of `kind`, whatever kinds it asks for. The claim
    /// itself checks the pause, so it holds at once, with no extra round trip.
    ///
    /// Jobs of `kind` claimed before the pause keep running and settle as usual (so may a
    /// job taken by a claim already under way when the pause is stored).
    /// Enqueue still accepts jobs of `kind`; they wait until [`Queue::resume_kind`].
    /// Pausing a paused kind (or a kind with no jobs) is fine. Fails with
    /// [`QueueError::InvalidJob`] for a kind [`validate_kind`] refuses.
    ///
    /// Unlike [`WorkerHandle::pause`](crate::WorkerHandle::pause), which stops one worker
    /// pool claiming a kind, this pause is stored with the jobs and outlives the process.
    ///
    /// ```ignore
    /// queue.pause_kind("email").await?;
    /// assert_eq!(queue.paused_kinds().await?, ["email"]);
    /// // No worker anywhere claims "email" jobs now; they keep accumulating.
    /// queue.resume_kind("email").await?;
    /// ```
    ///
    /// [`validate_kind`]: crate::validate_kind
    async fn pause_kind(&self, kind: &str) -> Result<()>;

    /// Lifts a [`Queue::pause_kind`]: jobs of `kind` are claimable again, and idle
    /// workers are woken to claim them. Resuming a kind that is not paused is fine.
    /// Fails with [`QueueError::InvalidJob`] for a kind [`validate_kind`] refuses.
    ///
    /// ```ignore
    /// queue.resume_kind("email").await?;
    /// assert!(queue.paused_kinds().await?.is_empty());
    /// ```
    ///
    /// [`validate_kind`]: crate::validate_kind
    async fn resume_kind(&self, kind: &str) -> Result<()>;

    /// The kinds paused with [`Queue::pause_kind`], sorted.
    async fn paused_kinds(&self) -> Result<Vec<String>>;

    /// Stores `limit` for `kind`, replacing any limit it had: from the next claim on, no
    /// claim of any worker in any process starts a job of `kind` beyond it. The claim
    /// itself counts the running jobs and recent starts, atomically with taking jobs, so
    /// the limit holds however many workers claim at once. A job whose lease expires gives
    /// its slot back.
    ///
    /// Jobs already running keep running when a lower limit is stored; no new ones start
    /// until the kind is under it. Fails with [`QueueError::InvalidJob`] for a kind
    /// [`validate_kind`] refuses and [`QueueError::InvalidRequest`] for a limit
    /// [`Limit::check`] refuses.
    ///
    /// ```ignore
    /// use queue_core::Limit;
    /// // At most 4 resizes at once across every worker process.
    /// queue.set_limit("resize", Limit::concurrency(4)).await?;
    /// // One sync at a time per customer (jobs carry NewJob::concurrency_key).
    /// queue.set_limit("sync", Limit::per_key(1)).await?;
    /// ```
    ///
    /// [`validate_kind`]: crate::validate_kind
    async fn set_limit(&self, kind: &str, limit: Limit) -> Result<()>;

    /// Removes the limit of `kind`, if it has one; its jobs are claimed as if it never had
    /// one. Fails with [`QueueError::InvalidJob`] for a kind [`validate_kind`] refuses.
    ///
    /// [`validate_kind`]: crate::validate_kind
    async fn clear_limit(&self, kind: &str) -> Result<()>;

    /// The stored limits, by kind.
    async fn limits(&self) -> Result<BTreeMap<String, Limit>>;

    /// The queue's name, as metrics and hooks label it: the table of a SQL queue, the
    /// name of a Redis queue; `"default"` unless the backend says otherwise.
    fn name(&self) -> &str {
        "default"
    }

    /// Stops accepting jobs. Nothing already accepted is lost: claimed jobs can still be
    /// acked or nacked, and durable backends keep pending jobs for the next start.
    async fn close(&self) -> Result<()>;
}

/// Read-only inspection for admin tools.
#[async_trait]
pub trait Browsable: Send + Sync {
    /// The jobs that match `filter`, newest (highest id) first, at most `filter.limit`
    /// (0 → 100). Page on with [`JobFilter::before`] set to the last id of a page: pages
    /// follow each other without gaps or repeats, and jobs enqueued meanwhile (newer than
    /// the cursor) never appear on later pages. No backend indexes kinds, so a kind that
    /// is rare among the jobs listed makes a page read far (see each backend). A kind
    /// filter no job can have is [`QueueError::InvalidRequest`] ([`JobFilter::check`]).
    ///
    /// ```
    /// # use queue_core::{Browsable, JobFilter, JobState};
    /// # async fn demo(queue: &dyn Browsable) -> queue_core::Result<()> {
    /// let filter = JobFilter::new().state(JobState::Failed).kind("email").limit(50);
    /// let page = queue.list(&filter).await?;
    /// if let Some(last) = page.last() {
    ///     let _next = queue.list(&filter.clone().before(last.id)).await?;
    /// }
    /// # Ok(()) }
    /// ```
    async fn list(&self, filter: &JobFilter) -> Result<Vec<Job>>;

    /// Up to `limit` jobs (0 → 100) in `state`, or in any state when `None`; newest first.
    /// Shorthand for [`Browsable::list`].
    async fn list_jobs(&self, state: Option<JobState>, limit: usize) -> Result<Vec<Job>> {
        let mut filter = JobFilter::new().limit(limit);
        filter.state = state;
        self.list(&filter).await
    }

    /// When the longest-waiting due job fell due: the earliest `scheduled_at` of the
    /// pending jobs that are due now by the backend's clock (paused kinds included).
    /// `None` when none is due. Its age is how far behind the workers are. Cheap: a few
    /// index reads per priority in use, not a scan of the pending jobs.
    async fn oldest_due(&self) -> Result<Option<OffsetDateTime>>;

    /// One job by id, if it exists (and is still retained).
    async fn get_job(&self, id: JobId) -> Result<Option<Job>>;

    /// Counts for every state, and the kinds paused with [`Queue::pause_kind`]. Cheap: no
    /// full scan of history.
    async fn stats(&self) -> Result<Stats>;
}

/// Re-running dead-lettered jobs.
#[async_trait]
pub trait Replayable: Send + Sync {
    /// Moves a `failed` job back to `pending`, attempts reset, due now. Unknown or
    /// non-failed ids are a no-op returning `Ok(false)`.
    async fn replay(&self, id: JobId) -> Result<bool>;

    /// Makes a pending job that is scheduled for later due now, by the backend's clock
    /// (its priority still orders it), and wakes idle workers as an enqueue does, so it
    /// runs at once. Any other job (unknown, running, finished, or pending and due
    /// already) is a no-op returning `Ok(false)`.
    async fn run_now(&self, id: JobId) -> Result<bool>;

    /// Deletes one finished job (`completed`, `failed` or `cancelled`), and frees the
    /// unique key it still holds: a unique window that outlived the job ends with it.
    /// Pending and running jobs are left alone (cancel them first): `Ok(false)`, as for
    /// unknown ids. Counts follow.
    async fn delete(&self, id: JobId) -> Result<bool>;

    /// Deletes up to `limit` jobs (0 → 100) in the final `state` that finished at least
    /// `older_than` ago by the backend's clock, the first to finish first; returns how
    /// many. Bounded per call: call again while it returns `limit`. Frees unique keys like
    /// [`Replayable::delete`]; a job replayed meanwhile is left alone. A state that is not
    /// final is [`QueueError::InvalidRequest`] (see [`check_purge_state`]), with nothing
    /// deleted.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use queue_core::{JobState, Replayable};
    /// # async fn demo(queue: &dyn Replayable) -> queue_core::Result<()> {
    /// let week = Duration::from_secs(7 * 24 * 3600);
    /// let mut purged = 0;
    /// loop {
    ///     let n = queue.purge(JobState::Completed, week, 1_000).await?;
    ///     purged += n;
    ///     if n < 1_000 {
    ///         break;
    ///     }
    /// }
    /// # let _ = purged;
    /// # Ok(()) }
    /// ```
    async fn purge(&self, state: JobState, older_than: Duration, limit: usize) -> Result<u64>;
}

/// Which jobs [`Browsable::list`] returns: every field narrows the list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct JobFilter {
    /// Only jobs in this state.
    pub state: Option<JobState>,
    /// Only jobs of this kind.
    pub kind: Option<String>,
    /// Only jobs with a lower id (older): the last id of the previous page.
    pub before: Option<JobId>,
    /// At most this many (0 → [`DEFAULT_LIST_LIMIT`]).
    pub limit: usize,
}

impl JobFilter {
    /// Every job, newest first, [`DEFAULT_LIST_LIMIT`] at a time.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only jobs in `state`.
    pub fn state(mut self, state: JobState) -> Self {
        self.state = Some(state);
        self
    }

    /// Only jobs of `kind`.
    pub fn kind(mut self, kind: impl Into<String>) -> Self {
        self.kind = Some(kind.into());
        self
    }

    /// Only jobs older than `id` (the next page after the one that ended with `id`).
    pub fn before(mut self, id: JobId) -> Self {
        self.before = Some(id);
        self
    }

    /// At most `n` jobs (0 → [`DEFAULT_LIST_LIMIT`]).
    pub fn limit(mut self, n: usize) -> Self {
        self.limit = n;
        self
    }

    /// Checks the filter before a backend runs it: a kind no job can have (empty, too
    /// long, control characters; see [`crate::validate_kind`]) is
    /// [`QueueError::InvalidRequest`], the same on every backend.
    pub fn check(&self) -> Result<()> {
        match &self.kind {
            Some(kind) => crate::validate_kind(kind)
                .map_err(|e| QueueError::InvalidRequest(format!("kind filter: {e}"))),
            None => Ok(()),
        }
    }
}

/// Everything a full backend offers, as one trait object: `Arc<dyn Backend>` coerces to
/// `Arc<dyn Queue>` where only the queue is needed.
pub trait Backend: Queue + Browsable + Replayable {}

impl<T: Queue + Browsable + Replayable + ?Sized> Backend for T {}

/// Job counts per state, and the paused kinds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Waiting, due or scheduled.
    pub pending: u64,
    /// Claimed, lease held.
    pub running: u64,
    /// Completed and still retained.
    pub completed: u64,
    /// Dead-lettered.
    pub failed: u64,
    /// Cancelled.
    pub cancelled: u64,
    /// The kinds paused with [`Queue::pause_kind`], sorted. Their pending jobs are
    /// counted in `pending`.
    #[serde(default)]
    pub paused: Vec<String>,
    /// The kinds with a [`Limit`] (see [`Queue::set_limit`]), sorted by kind, with their
    /// running jobs and the due jobs the limit holds back.
    #[serde(default)]
    pub limits: Vec<LimitStats>,
}

impl Stats {
    /// The count for one state.
    pub fn get(&self, state: JobState) -> u64 {
        match state {
            JobState::Pending => self.pending,
            JobState::Running => self.running,
            JobState::Completed => self.completed,
            JobState::Failed => self.failed,
            JobState::Cancelled => self.cancelled,
        }
    }

    /// The count for one state, mutable.
    pub fn get_mut(&mut self, state: JobState) -> &mut u64 {
        match state {
            JobState::Pending => &mut self.pending,
            JobState::Running => &mut self.running,
            JobState::Completed => &mut self.completed,
            JobState::Failed => &mut self.failed,
            JobState::Cancelled => &mut self.cancelled,
        }
    }
}

/// The id of a one-job [`Queue::enqueue_batch`], for backends whose `enqueue` is a batch
/// of one.
pub async fn enqueue_one<Q: Queue + ?Sized>(queue: &Q, job: NewJob) -> Result<JobId> {
    queue
        .enqueue_batch(vec![job])
        .await?
        .pop()
        .ok_or_else(|| QueueError::InvalidJob("nothing was enqueued".into()))
}

/// Limit used when a list or purge call asks for 0 jobs.
pub const DEFAULT_LIST_LIMIT: usize = 100;

/// Checks the state of a [`Replayable::purge`]: only final states can be purged.
/// Backends call it before touching anything.
pub fn check_purge_state(state: JobState) -> Result<()> {
    if state.is_final() {
        Ok(())
    } else {
        Err(QueueError::InvalidRequest(format!(
            "cannot purge {state} jobs: only completed, failed or cancelled jobs are purged \
             (cancel pending or running jobs first)"
        )))
    }
}

/// Turns a requested list (or purge) limit into the one to use.
pub fn list_limit(limit: usize) -> usize {
    if limit == 0 {
        DEFAULT_LIST_LIMIT
    } else {
        limit
    }
}
