//! The queue itself: shared state, and the queue traits wired to the modules that hold
//! each kind of operation.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use fred::prelude::Pool;
use queue_core::{
    Browsable, CancelNotifier, CancelOutcome, CancelRequests, Completion, Job, JobFilter, JobId,
    JobState, Lease, LeaseStatus, NewJob, Notifier, Queue, QueueError, Replayable, Result,
    RetryPolicy, Stats, Subscription,
};
use time::OffsetDateTime;

use crate::builder::{duration_ms, RedisQueueBuilder};
use crate::conns::Conns;
use crate::keys::Keys;
use crate::scripts::Scripts;
use crate::wake::Listener;

/// A job queue in Redis. See the [crate documentation](crate) for the data model.
///
/// Cheap to share behind an `Arc`; `Arc<RedisQueue>` coerces to
/// `Arc<dyn queue_core::Backend>`. Dropping the last handle stops its reclaim timer and
/// wake-up listener; the jobs stay in Redis. Clones share one queue.
#[derive(Clone)]
pub struct RedisQueue {
    pub(crate) inner: Arc<Inner>,
}

/// What the queue's background tasks share with it.
pub(crate) struct Inner {
    pub(crate) name: String,
    pub(crate) conns: Conns,
    pub(crate) keys: Keys,
    pub(crate) scripts: Scripts,
    pub(crate) lease_ms: AtomicU64,
    pub(crate) retry: RetryPolicy,
    pub(crate) keep_completed: u64,
    pub(crate) keep_failed: u64,
    /// Longest stored output, in bytes.
    pub(crate) max_output: usize,
    pub(crate) closed: AtomicBool,
    pub(crate) notifier: Notifier,
    /// Wakes the maintenance timer when the lease timeout changes, so a shorter lease is
    /// reclaimed on its own cadence rather than after the old, longer period.
    pub(crate) retimed: Arc<tokio::sync::Notify>,
    /// Cancel requests heard on the wake channel.
    pub(crate) cancels: CancelNotifier,
    /// Held only to keep the subscription alive; it unsubscribes when dropped.
    pub(crate) _listener: Option<Listener>,
}

impl Inner {
    pub(crate) fn lease(&self) -> Duration {
        Duration::from_millis(self.lease_ms.load(Ordering::Relaxed))
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }
}

impl RedisQueue {
    /// Connects to `url` (see [`RedisQueueBuilder::url`]) with default settings and opens
    /// the queue `name`.
    pub async fn connect(url: &str, name: &str) -> Result<RedisQueue> {
        RedisQueue::builder(name).url(url).build().await
    }

    /// Starts configuring the queue `name`: 1 to 128 bytes, no braces, spaces or control
    /// characters. Its keys all start with `{name}:`.
    pub fn builder(name: impl Into<String>) -> RedisQueueBuilder {
        RedisQueueBuilder::new(name)
    }

    /// The queue's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The prefix of every key of the queue: `{name}:`.
    pub fn key_prefix(&self) -> String {
        format!("{}:", self.inner.keys.tag())
    }

    /// The fred pool the queue uses.
    pub fn pool(&self) -> &Pool {
        self.inner.conns.pool()
    }

    /// Deletes every key of the queue: jobs in all states, indexes, unique keys. For tests
    /// and uninstalling; runs in bounded steps, so it is safe on a large queue, but jobs
    /// enqueued meanwhile may survive.
    pub async fn drop_all(&self) -> Result<()> {
        let inner = &self.inner;
        let mut sweep = String::new();
        loop {
            let args = vec!["1000".into(), sweep];
            let next = inner
                .scripts
                .drop
                .run(inner.conns.other(), inner.keys.common(), args)
                .await?;
            sweep = crate::decode::string(&next);
            if sweep == "done" {
                return Ok(());
            }
        }
    }

    fn check_open(&self) -> Result<()> {
        if self.inner.is_closed() {
            Err(QueueError::Closed)
        } else {
            Ok(())
        }
    }
}

impl std::fmt::Debug for RedisQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisQueue")
            .field("name", &self.inner.name)
            .field("lease_timeout", &self.inner.lease())
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Queue for RedisQueue {
    fn name(&self) -> &str {
        &self.inner.name
    }

    async fn enqueue(&self, job: NewJob) -> Result<JobId> {
        queue_core::enqueue_one(self, job).await
    }

    /// Atomic per chunk of 250 jobs: every job of the call is validated before anything
    /// is written, and each chunk is stored by one script (all or nothing); up to 8
    /// chunks are in flight at once and run in order. A call of more than 250 jobs that
    /// fails midway keeps the chunks before the failing one (after a lost connection,
    /// any that ran).
    async fn enqueue_batch(&self, jobs: Vec<NewJob>) -> Result<Vec<JobId>> {
        self.check_open()?;
        let count = queue_core::metrics::Enqueued::of(&jobs);
        let ids = crate::enqueue::enqueue(&self.inner, jobs).await?;
        count.record(&self.inner.name);
        Ok(ids)
    }

    async fn dequeue_batch(&self, kinds: &[&str], max: usize) -> Result<Vec<Job>> {
        crate::claim::claim(&self.inner, kinds, max).await
    }

    async fn ack_batch(&self, leases: &[Lease]) -> Result<Vec<Result<()>>> {
        crate::settle::ack(&self.inner, leases).await
    }

    /// Outputs live in the job hashes, so they go with the completed jobs that
    /// `keep_last_completed` evicts; with `keep_last_completed(0)` none is kept.
    async fn complete_batch(&self, done: &[Completion]) -> Result<Vec<Result<()>>> {
        crate::settle::complete(&self.inner, done).await
    }

    async fn nack(&self, lease: &Lease, error: &str) -> Result<()> {
        crate::settle::nack(&self.inner, lease, error).await
    }

    async fn discard(&self, lease: &Lease, reason: &str) -> Result<()> {
        crate::settle::discard(&self.inner, lease, reason).await
    }

    async fn snooze(&self, lease: &Lease, delay: Duration) -> Result<()> {
        crate::settle::snooze(&self.inner, lease, delay).await
    }

    async fn heartbeat(&self, leases: &[Lease]) -> Result<Vec<LeaseStatus>> {
        crate::settle::heartbeat(&self.inner, leases).await
    }

    async fn cancel(&self, id: JobId) -> Result<CancelOutcome> {
        crate::settle::cancel(&self.inner, id).await
    }

    async fn reclaim(&self) -> Result<u64> {
        crate::maintenance::reclaim(&self.inner).await
    }

    fn lease_timeout(&self) -> Duration {
        self.inner.lease()
    }

    fn set_lease_timeout(&self, timeout: Duration) {
        self.inner
            .lease_ms
            .store(duration_ms(timeout).max(1), Ordering::Relaxed);
        self.inner.retimed.notify_one();
    }

    fn subscribe(&self) -> Subscription {
        self.inner.notifier.subscribe()
    }

    /// Requests published on the queue's wake channel by any process (with
    /// [`RedisQueueBuilder::wake_ups`] on; otherwise the heartbeat alone tells workers).
    fn cancel_requests(&self) -> CancelRequests {
        self.inner.cancels.listen()
    }

    async fn next_due(&self, _kinds: &[&str]) -> Option<Duration> {
        crate::maintenance::next_due(&self.inner).await
    }

    async fn pause_kind(&self, kind: &str) -> Result<()> {
        crate::pause::pause(&self.inner, kind).await
    }

    async fn resume_kind(&self, kind: &str) -> Result<()> {
        crate::pause::resume(&self.inner, kind).await
    }

    async fn paused_kinds(&self) -> Result<Vec<String>> {
        crate::pause::paused(&self.inner).await
    }

    async fn set_limit(&self, kind: &str, limit: queue_core::Limit) -> Result<()> {
        crate::limits::set(&self.inner, kind, &limit).await
    }

    async fn clear_limit(&self, kind: &str) -> Result<()> {
        crate::limits::clear(&self.inner, kind).await
    }

    async fn limits(&self) -> Result<std::collections::BTreeMap<String, queue_core::Limit>> {
        crate::limits::all(&self.inner).await
    }

    async fn close(&self) -> Result<()> {
        self.inner.closed.store(true, Ordering::Release);
        Ok(())
    }
}

#[async_trait]
impl Browsable for RedisQueue {
    /// Reads the state indexes from the cursor in chunks and loads the jobs' hashes. No
    /// index holds kinds: with a kind filter it reads on (pipelined, in chunks) until it
    /// has the page or the indexes end, so a kind that is rare among the jobs of the
    /// states listed costs reading them all. Running jobs are indexed by lease deadline,
    /// so a list that includes them reads every running id.
    async fn list(&self, filter: &JobFilter) -> Result<Vec<Job>> {
        crate::browse::list(&self.inner, filter).await
    }

    /// One script: the first delayed entry, then a loose walk over each kind's ready set,
    /// one read per priority in use.
    async fn oldest_due(&self) -> Result<Option<OffsetDateTime>> {
        crate::browse::oldest_due(&self.inner).await
    }

    async fn get_job(&self, id: JobId) -> Result<Option<Job>> {
        crate::browse::get(&self.inner, id).await
    }

    async fn stats(&self) -> Result<Stats> {
        crate::browse::stats(&self.inner).await
    }
}

#[async_trait]
impl Replayable for RedisQueue {
    async fn replay(&self, id: JobId) -> Result<bool> {
        crate::settle::replay(&self.inner, id).await
    }

    /// Due now by the server clock; idle workers of every process are woken through the
    /// wake channel.
    async fn run_now(&self, id: JobId) -> Result<bool> {
        crate::admin::run_now(&self.inner, id).await
    }

    /// Also frees the unique key the job still holds (a unique window that outlived the
    /// job).
    async fn delete(&self, id: JobId) -> Result<bool> {
        crate::admin::delete(&self.inner, id).await
    }

    /// Ages are measured on the server clock, from the `{name}:finished:<state>` index.
    /// Frees unique keys like [`Replayable::delete`]. Jobs that finished before that
    /// index existed (an older version of this crate) are not in it: `delete` and
    /// retention still remove them.
    async fn purge(&self, state: JobState, older_than: Duration, limit: usize) -> Result<u64> {
        crate::admin::purge(&self.inner, state, older_than, limit).await
    }
}
