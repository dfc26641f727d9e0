//! [`MemoryQueue`] and its implementations of the queue traits.

use std::collections::BTreeMap;
use std::fmt;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use queue_core::{
    check_purge_state, list_limit, validate_kind, Browsable, CancelNotifier, CancelOutcome,
    CancelRequests, Completion, Job, JobFilter, JobId, JobState, Lease, LeaseStatus, Limit, NewJob,
    Notifier, Queue, QueueError, Replayable, Result, Stats, Subscription,
};
use time::OffsetDateTime;
use tokio::sync::Notify;

use crate::builder::MemoryQueueBuilder;
use crate::clock::{Clock, Now};
use crate::state::{Candidate, Enqueued, Events, Limits, State};

/// An in-process job queue: every job lives in this process's memory, and is gone when
/// the queue is dropped.
///
/// Implements [`Queue`], [`Browsable`] and [`Replayable`], so `Arc<MemoryQueue>` coerces
/// to `Arc<dyn queue_core::Backend>` and `Arc<dyn Queue>`. Build one with
/// [`MemoryQueue::new`] or [`MemoryQueue::builder`]; neither needs a tokio runtime.
///
/// Lease expiry, delays, backoff and unique windows are measured on a monotonic clock, so
/// a step of the system clock neither reclaims a job whose worker still holds its lease
/// nor runs a delayed job early; the times it reports (`scheduled_at`,
/// `Lease::expires_at`) are wall-clock times.
///
/// Expired leases are reclaimed by whichever call comes next (every call first promotes
/// due delayed jobs and reclaims expired leases), so no background task is needed.
pub struct MemoryQueue {
    state: Mutex<State>,
    /// Nanoseconds; read without the lock by claims and heartbeats.
    lease_timeout: AtomicU64,
    capacity: Option<usize>,
    /// Longest stored output, in bytes.
    max_output: usize,
    notifier: Notifier,
    /// Announces cancel requests for running jobs to workers.
    cancels: CancelNotifier,
    /// Wakes enqueuers waiting for room (and for close).
    room: Arc<Notify>,
    clock: Clock,
}

impl Default for MemoryQueue {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MemoryQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stats = self.lock().stats();
        f.debug_struct("MemoryQueue")
            .field("lease_timeout", &Queue::lease_timeout(self))
            .field("capacity", &self.capacity)
            .field("stats", &stats)
            .finish_non_exhaustive()
    }
}

fn duration_nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl MemoryQueue {
    /// A queue with the defaults: 30 s leases ([`queue_core::DEFAULT_LEASE_TIMEOUT`]),
    /// [`queue_core::RetryPolicy::default`], no capacity limit, up to 10,000 failed and
    /// 1,000 completed or cancelled jobs kept.
    pub fn new() -> Self {
        MemoryQueueBuilder::default().build()
    }

    /// Starts a queue with settings other than the defaults.
    pub fn builder() -> MemoryQueueBuilder {
        MemoryQueueBuilder::default()
    }

    pub(crate) fn from_builder(b: MemoryQueueBuilder) -> Self {
        let notifier = Notifier::new();
        let room = Arc::new(Notify::new());
        let clock = Clock::for_queue(b.clock, &notifier, &room);
        MemoryQueue {
            state: Mutex::new(State::new(Limits {
                retry: b.retry,
                capacity: b.capacity,
                keep_completed: b.keep_completed,
                keep_failed: b.keep_failed,
            })),
            lease_timeout: AtomicU64::new(duration_nanos(b.lease_timeout)),
            capacity: b.capacity,
            max_output: b.max_output,
            notifier,
            cancels: CancelNotifier::new(),
            room,
            clock,
        }
    }

    /// Like [`Queue::enqueue`], but fails with [`QueueError::Full`] instead of waiting
    /// when the queue is at its capacity. Needs no runtime.
    ///
    /// ```
    /// use queue_core::{Job, QueueError};
    /// use queue_memory::MemoryQueue;
    ///
    /// let queue = MemoryQueue::builder().capacity(1).build();
    /// queue.try_enqueue(Job::new("email", serde_json::json!(1)))?;
    /// let full = queue.try_enqueue(Job::new("email", serde_json::json!(2)));
    /// assert!(matches!(full, Err(QueueError::Full)));
    /// # Ok::<(), QueueError>(())
    /// ```
    pub fn try_enqueue(&self, job: NewJob) -> Result<JobId> {
        let count = queue_core::metrics::Enqueued::of(std::slice::from_ref(&job));
        let batch = self.prepare(vec![job])?;
        match self.with_state(|st, now| st.enqueue(batch, now))? {
            Enqueued::Stored(ids) => {
                count.record(self.name());
                ids.into_iter()
                    .next()
                    .ok_or_else(|| QueueError::InvalidJob("nothing was enqueued".into()))
            }
            Enqueued::Full { .. } => Err(QueueError::Full),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing under this lock panics by design; if something did, the indexes are
        // still usable, so carry on rather than fail every later call.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` on the state after maintenance, then announces what happened.
    pub(crate) fn with_state<R>(&self, f: impl FnOnce(&mut State, Now) -> R) -> R {
        let now = self.clock.now();
        let (out, events) = {
            let mut st = self.lock();
            st.maintain(now);
            let out = f(&mut st, now);
            (out, st.take_events())
        };
        self.announce(events);
        out
    }

    fn announce(&self, events: Events) {
        if events.ready {
            self.notifier.notify();
        }
        if events.freed && self.capacity.is_some() {
            self.room.notify_waiters();
        }
    }

    /// Validates a batch before anything is locked or stored.
    fn prepare(&self, jobs: Vec<NewJob>) -> Result<Vec<Candidate>> {
        if let Some(cap) = self.capacity {
            if jobs.len() > cap {
                return Err(QueueError::InvalidJob(format!(
                    "a batch of {} jobs can never fit a queue with capacity {cap}",
                    jobs.len()
                )));
            }
        }
        jobs.into_iter()
            .map(|job| {
                let p = job.prepare()?;
                Ok(Candidate {
                    id: p.id,
                    max_attempts: p.max_attempts,
                    job,
                })
            })
            .collect()
    }
}

#[async_trait]
impl Queue for MemoryQueue {
    /// Stores a job. With a capacity set and the queue full, waits until a job leaves the
    /// pending and running states (or the queue closes, giving [`QueueError::Closed`]).
    async fn enqueue(&self, job: NewJob) -> Result<JobId> {
        queue_core::enqueue_one(self, job).await
    }

    /// Stores every job or none. A batch larger than the capacity is refused with
    /// [`QueueError::InvalidJob`]; otherwise, like `enqueue`, it waits for room.
    async fn enqueue_batch(&self, jobs: Vec<NewJob>) -> Result<Vec<JobId>> {
        let count = queue_core::metrics::Enqueued::of(&jobs);
        let mut batch = self.prepare(jobs)?;
        loop {
            // Registered before looking, so room freed in between is not missed.
            let mut room = pin!(self.room.notified());
            room.as_mut().enable();
            let retry_in = match self.with_state(|st, now| st.enqueue(batch, now))? {
                Enqueued::Stored(ids) => {
                    count.record(self.name());
                    return Ok(ids);
                }
                Enqueued::Full {
                    batch: back,
                    retry_in,
                } => {
                    batch = back;
                    retry_in
                }
            };
            // No call may come to reclaim an expired lease (which can free room), so
            // look again by ourselves when the next one runs out.
            match retry_in {
                Some(wait) if !self.clock.is_manual() => {
                    let wait = wait + Duration::from_millis(1);
                    let _ = tokio::time::timeout(wait, room).await;
                }
                // A manual clock's advance wakes `room` itself.
                _ => room.await,
            }
        }
    }

    async fn dequeue_batch(&self, kinds: &[&str], max: usize) -> Result<Vec<Job>> {
        let lease = Queue::lease_timeout(self);
        Ok(self.with_state(|st, now| st.claim(kinds, max, now, lease)))
    }

    async fn ack_batch(&self, leases: &[Lease]) -> Result<Vec<Result<()>>> {
        Ok(self.with_state(|st, now| leases.iter().map(|l| st.ack(l, now)).collect()))
    }

    /// Outputs are kept on the job, so they last as long as the completed job is retained
    /// (see [`MemoryQueueBuilder::keep_last_completed`]).
    async fn complete_batch(&self, done: &[Completion]) -> Result<Vec<Result<()>>> {
        // Checked and parsed before the lock is taken.
        let outputs: Vec<Result<Option<serde_json::Value>>> = done
            .iter()
            .map(|c| {
                c.checked_output(self.max_output)?
                    .map(|text| {
                        serde_json::from_str(text).map_err(|source| QueueError::Payload {
                            id: Some(c.lease.id),
                            source,
                        })
                    })
                    .transpose()
            })
            .collect();
        Ok(self.with_state(|st, now| {
            done.iter()
                .zip(outputs)
                .map(|(c, output)| st.complete(&c.lease, output?, now))
                .collect()
        }))
    }

    async fn nack(&self, lease: &Lease, error: &str) -> Result<()> {
        self.with_state(|st, now| st.nack(lease, error, now))
    }

    async fn discard(&self, lease: &Lease, reason: &str) -> Result<()> {
        self.with_state(|st, now| st.discard(lease, reason, now))
    }

    async fn snooze(&self, lease: &Lease, delay: Duration) -> Result<()> {
        self.with_state(|st, now| st.snooze(lease, delay, now))
    }

    async fn heartbeat(&self, leases: &[Lease]) -> Result<Vec<LeaseStatus>> {
        let timeout = Queue::lease_timeout(self);
        Ok(self.with_state(|st, now| {
            leases
                .iter()
                .map(|l| st.heartbeat(l, now, timeout))
                .collect()
        }))
    }

    async fn cancel(&self, id: JobId) -> Result<CancelOutcome> {
        let outcome = self.with_state(|st, now| st.cancel(id, now));
        if outcome == CancelOutcome::Requested {
            self.cancels.notify(id);
        }
        Ok(outcome)
    }

    async fn reclaim(&self) -> Result<u64> {
        let now = self.clock.now();
        let (reclaimed, events) = {
            let mut st = self.lock();
            let n = st.maintain(now);
            (n, st.take_events())
        };
        self.announce(events);
        Ok(reclaimed)
    }

    fn lease_timeout(&self) -> Duration {
        Duration::from_nanos(self.lease_timeout.load(Ordering::Relaxed))
    }

    fn set_lease_timeout(&self, timeout: Duration) {
        self.lease_timeout
            .store(duration_nanos(timeout), Ordering::Relaxed);
    }

    fn subscribe(&self) -> Subscription {
        self.notifier.subscribe()
    }

    /// Requests made through any holder of this queue (it lives in this process only).
    fn cancel_requests(&self) -> CancelRequests {
        self.cancels.listen()
    }

    /// Time until the next delayed job is due or the next lease runs out, whatever its
    /// kind.
    async fn next_due(&self, _kinds: &[&str]) -> Option<Duration> {
        self.with_state(|st, now| st.next_due(now))
    }

    /// Pauses `kind` for every holder of this queue (it lives in this process only).
    ///
    /// ```
    /// use queue_core::{Job, Queue};
    /// use queue_memory::MemoryQueue;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), queue_core::QueueError> {
    /// let queue = MemoryQueue::new();
    /// queue.enqueue(Job::new("email", serde_json::json!("a@example.com"))).await?;
    /// queue.pause_kind("email").await?;
    /// assert!(queue.dequeue(&[]).await?.is_none(), "paused: waits");
    /// queue.resume_kind("email").await?;
    /// assert!(queue.dequeue(&[]).await?.is_some());
    /// # Ok(())
    /// # }
    /// ```
    async fn pause_kind(&self, kind: &str) -> Result<()> {
        validate_kind(kind)?;
        self.with_state(|st, _| st.set_paused(kind, true));
        Ok(())
    }

    async fn resume_kind(&self, kind: &str) -> Result<()> {
        validate_kind(kind)?;
        self.with_state(|st, _| st.set_paused(kind, false));
        Ok(())
    }

    async fn paused_kinds(&self) -> Result<Vec<String>> {
        Ok(self.lock().paused())
    }

    /// Stores the limit for every holder of this queue (it lives in this process only).
    ///
    /// ```
    /// use queue_core::{Job, Limit, Queue};
    /// use queue_memory::MemoryQueue;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), queue_core::QueueError> {
    /// let queue = MemoryQueue::new();
    /// queue.set_limit("sync", Limit::per_key(1)).await?;
    /// for _ in 0..2 {
    ///     queue.enqueue(Job::new("sync", serde_json::json!({})).concurrency_key("customer:1")).await?;
    /// }
    /// queue.enqueue(Job::new("sync", serde_json::json!({})).concurrency_key("customer:2")).await?;
    /// // One per customer: the second job of customer 1 waits for the first.
    /// assert_eq!(queue.dequeue_batch(&["sync"], 10).await?.len(), 2);
    /// # Ok(())
    /// # }
    /// ```
    async fn set_limit(&self, kind: &str, limit: Limit) -> Result<()> {
        validate_kind(kind)?;
        limit.check()?;
        self.with_state(|st, now| st.set_limit(kind, limit, now.mono));
        Ok(())
    }

    async fn clear_limit(&self, kind: &str) -> Result<()> {
        validate_kind(kind)?;
        self.with_state(|st, _| st.clear_limit(kind));
        Ok(())
    }

    async fn limits(&self) -> Result<BTreeMap<String, Limit>> {
        Ok(self.lock().limits())
    }

    async fn close(&self) -> Result<()> {
        self.with_state(|st, _| st.close());
        self.room.notify_waiters();
        Ok(())
    }
}

#[async_trait]
impl Browsable for MemoryQueue {
    /// A scan of every retained job (listing is for inspection), O(n log limit).
    async fn list(&self, filter: &JobFilter) -> Result<Vec<Job>> {
        filter.check()?;
        Ok(self.with_state(|st, _| st.list(filter, list_limit(filter.limit))))
    }

    /// One lookup per kind and priority present.
    async fn oldest_due(&self) -> Result<Option<OffsetDateTime>> {
        Ok(self.with_state(|st, _| st.oldest_due()))
    }

    async fn get_job(&self, id: JobId) -> Result<Option<Job>> {
        Ok(self.with_state(|st, _| st.get(id)))
    }

    async fn stats(&self) -> Result<Stats> {
        Ok(self.with_state(|st, now| Stats {
            limits: st.limit_stats(now.mono),
            ..st.stats()
        }))
    }
}

#[async_trait]
impl Replayable for MemoryQueue {
    /// Moves a failed job back to pending, due now, with attempts reset; its
    /// `last_error` is kept as a record of why it had failed.
    async fn replay(&self, id: JobId) -> Result<bool> {
        Ok(self.with_state(|st, now| st.replay(id, now)))
    }

    /// Wakes idle workers of this queue, as an enqueue does.
    async fn run_now(&self, id: JobId) -> Result<bool> {
        Ok(self.with_state(|st, now| st.run_now(id, now)))
    }

    /// Also frees the job's unique key when it still holds one, a unique window that
    /// outlived the job included.
    async fn delete(&self, id: JobId) -> Result<bool> {
        Ok(self.with_state(|st, _| st.delete(id)))
    }

    /// Ages are measured on the queue's monotonic clock (or its [`crate::ManualClock`]),
    /// like every other deadline of the queue. Frees unique keys like
    /// [`Replayable::delete`].
    async fn purge(&self, state: JobState, older_than: Duration, limit: usize) -> Result<u64> {
        check_purge_state(state)?;
        Ok(self.with_state(|st, now| st.purge(state, older_than, list_limit(limit), now)))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    /// A step of the wall clock (an administrator, a VM resumed, NTP stepping) must not
    /// end leases or delays early: a worker that still trusts its lease keeps it, and a
    /// delayed job waits its delay.
    #[tokio::test]
    async fn wall_clock_jump_keeps_leases_and_delays() {
        let q = MemoryQueue::builder()
            .lease_timeout(Duration::from_secs(30))
            .build();
        let running = q
            .enqueue(Job::new("k", serde_json::json!(1)))
            .await
            .unwrap();
        let later = q
            .enqueue(Job::new("k", serde_json::json!(2)).delay(Duration::from_secs(600)))
            .await
            .unwrap();
        let job = q.dequeue(&[]).await.unwrap().unwrap();
        assert_eq!(job.id, running);
        let lease = job.lease().unwrap();

        q.clock.step_wall(time::Duration::hours(1));
        assert_eq!(q.reclaim().await.unwrap(), 0, "the lease has 30 s left");
        assert!(
            q.dequeue(&[]).await.unwrap().is_none(),
            "neither the running job nor the delayed one may be claimed"
        );
        assert_eq!(
            q.heartbeat(&[lease]).await.unwrap(),
            vec![LeaseStatus::Held]
        );
        q.ack(&lease).await.unwrap();
        let stats = q.stats().await.unwrap();
        assert_eq!((stats.completed, stats.pending, stats.running), (1, 1, 0));
        assert_eq!(
            q.get_job(later).await.unwrap().map(|j| j.state),
            Some(JobState::Pending)
        );
    }

    /// A step back of the wall clock does not stretch a lease either: it still runs out
    /// after its timeout and the job is claimed again.
    #[tokio::test]
    async fn wall_clock_step_back_keeps_lease_length() {
        let q = MemoryQueue::builder()
            .lease_timeout(Duration::from_millis(100))
            .build();
        let id = q
            .enqueue(Job::new("k", serde_json::json!(1)))
            .await
            .unwrap();
        let first = q.dequeue(&[]).await.unwrap().unwrap();
        q.clock.step_wall(-time::Duration::hours(1));
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        let again = loop {
            if let Some(job) = q.dequeue(&[]).await.unwrap() {
                break job;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the 100 ms lease never ran out after the wall clock went back an hour"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        assert_eq!((again.id, again.attempts), (id, 2));
        assert!(matches!(
            q.ack(&first.lease().unwrap()).await,
            Err(QueueError::LeaseLost(lost)) if lost == id
        ));
    }
}
