//! `MemoryQueue` and its trait implementations.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use queue_core::{
    list_limit, Browsable, Job, JobId, JobState, Lease, NewJob, Notifier, Queue, QueueError,
    Replayable, Result, RunAt, Stats, Subscription,
};
use time::OffsetDateTime;
use tokio::sync::Notify;

use crate::builder::MemoryQueueBuilder;
use crate::state::{nanos, plus, Settled, State};

/// An in-process job queue. Cheap to share: wrap it in an `Arc`.
pub struct MemoryQueue {
    state: Mutex<State>,
    capacity: Option<usize>,
    notifier: Notifier,
    /// Wakes enqueuers waiting for room.
    room: Notify,
}

impl Default for MemoryQueue {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryQueue {
    /// A queue with the defaults of [`MemoryQueueBuilder`].
    pub fn new() -> Self {
        MemoryQueueBuilder::default().build()
    }

    /// Settings beyond the defaults.
    pub fn builder() -> MemoryQueueBuilder {
        MemoryQueueBuilder::default()
    }

    pub(crate) fn from_builder(b: MemoryQueueBuilder) -> Self {
        MemoryQueue {
            state: Mutex::new(State::new(
                b.lease_timeout,
                b.retry,
                b.keep_completed,
                b.keep_failed,
            )),
            capacity: b.capacity,
            notifier: Notifier::new(),
            room: Notify::new(),
        }
    }

    /// Locks the state after promoting due jobs and reclaiming expired leases.
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic under this lock cannot leave the indexes half-updated in a way that
        // matters more than refusing all further work would.
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let (woke, _) = st.maintain(OffsetDateTime::now_utc());
        if woke {
            self.notifier.notify();
        }
        st
    }

    /// Like `enqueue`, but fails with [`QueueError::Full`] instead of waiting for room.
    pub fn try_enqueue(&self, job: NewJob) -> Result<JobId> {
        match self.try_insert(std::slice::from_ref(&job))? {
            Some(ids) => ids
                .into_iter()
                .next()
                .ok_or_else(|| QueueError::InvalidJob("nothing to enqueue".into())),
            None => Err(QueueError::Full),
        }
    }

    /// `Ok(None)` when the batch does not fit yet.
    fn try_insert(&self, jobs: &[NewJob]) -> Result<Option<Vec<JobId>>> {
        let prepared = jobs
            .iter()
            .map(|j| j.prepare())
            .collect::<Result<Vec<_>>>()?;
        if let Some(cap) = self.capacity {
            if jobs.len() > cap {
                return Err(QueueError::InvalidJob(format!(
                    "a batch of {} jobs can never fit a queue of capacity {cap}",
                    jobs.len()
                )));
            }
        }
        let mut st = self.lock();
        if st.closed {
            return Err(QueueError::Closed);
        }
        let now = OffsetDateTime::now_utc();
        let n = nanos(now);
        // Resolve duplicates before writing anything, so the batch is all or nothing.
        let mut in_batch: HashMap<&str, JobId> = HashMap::new();
        let mut ids = Vec::with_capacity(jobs.len());
        let mut fresh: Vec<(&NewJob, &queue_core::Prepared)> = Vec::new();
        for (job, p) in jobs.iter().zip(&prepared) {
            if let Some(u) = &job.unique {
                if let Some(id) = in_batch.get(u.key.as_str()) {
                    ids.push(*id);
                    continue;
                }
                if let Some(holder) = st.unique_holder(&u.key, n) {
                    ids.push(holder);
                    continue;
                }
                in_batch.insert(&u.key, p.id);
            }
            if st.contains(p.id) || fresh.iter().any(|(_, q)| q.id == p.id) {
                return Err(QueueError::InvalidJob(format!(
                    "a job with id {} already exists",
                    p.id
                )));
            }
            ids.push(p.id);
            fresh.push((job, p));
        }
        if let Some(cap) = self.capacity {
            if st.live() + fresh.len() > cap {
                return Ok(None);
            }
        }
        for (job, p) in fresh {
            let scheduled_at = match job.run_at {
                RunAt::Now => now,
                RunAt::After(d) => plus(now, d),
                RunAt::At(t) => t,
            };
            let window = job
                .unique
                .as_ref()
                .and_then(|u| u.window)
                .map(|w| nanos(plus(now, w)));
            st.insert(
                Job {
                    id: p.id,
                    kind: job.kind.clone(),
                    payload: job.payload.clone(),
                    priority: job.priority,
                    attempts: 0,
                    max_attempts: p.max_attempts,
                    created_at: now,
                    scheduled_at,
                    state: JobState::Pending,
                    unique_key: job.unique.as_ref().map(|u| u.key.clone()),
                    last_error: None,
                    lease: None,
                },
                window,
                n,
            );
        }
        drop(st);
        self.notifier.notify();
        Ok(Some(ids))
    }

    /// Wakes enqueuers when jobs leave the live set.
    fn freed(&self) {
        if self.capacity.is_some() {
            self.room.notify_waiters();
        }
    }
}

#[async_trait]
impl Queue for MemoryQueue {
    async fn enqueue(&self, job: NewJob) -> Result<JobId> {
        let mut ids = self.enqueue_batch(vec![job]).await?;
        ids.pop()
            .ok_or_else(|| QueueError::InvalidJob("nothing to enqueue".into()))
    }

    async fn enqueue_batch(&self, jobs: Vec<NewJob>) -> Result<Vec<JobId>> {
        loop {
            // Register for a wake-up before looking, so a freed slot is never missed.
            let room = self.room.notified();
            if let Some(ids) = self.try_insert(&jobs)? {
                return Ok(ids);
            }
            // Leases expire on the clock, not on a call: look again now and then.
            let _ = tokio::time::timeout(Duration::from_millis(100), room).await;
        }
    }

    async fn dequeue_batch(&self, kinds: &[&str], max: usize) -> Result<Vec<Job>> {
        let mut st = self.lock();
        Ok(st.claim(kinds, max, OffsetDateTime::now_utc()))
    }

    async fn ack_batch(&self, leases: &[Lease]) -> Result<Vec<Result<()>>> {
        let results = {
            let mut st = self.lock();
            leases.iter().map(|l| st.ack(l)).collect()
        };
        self.freed();
        Ok(results)
    }

    async fn nack(&self, lease: &Lease, error: &str) -> Result<()> {
        let settled = self.lock().nack(lease, error, OffsetDateTime::now_utc())?;
        match settled {
            Settled::Requeued => self.notifier.notify(),
            Settled::Final => self.freed(),
        }
        Ok(())
    }

    async fn discard(&self, lease: &Lease, reason: &str) -> Result<()> {
        self.lock().discard(lease, reason)?;
        self.freed();
        Ok(())
    }

    async fn snooze(&self, lease: &Lease, delay: Duration) -> Result<()> {
        self.lock()
            .snooze(lease, delay, OffsetDateTime::now_utc())?;
        self.notifier.notify();
        Ok(())
    }

    async fn heartbeat(&self, leases: &[Lease]) -> Result<Vec<bool>> {
        let mut st = self.lock();
        let now = OffsetDateTime::now_utc();
        Ok(leases.iter().map(|l| st.heartbeat(l, now)).collect())
    }

    async fn cancel(&self, id: JobId) -> Result<bool> {
        let done = self.lock().cancel(id);
        if done {
            self.freed();
        }
        Ok(done)
    }

    async fn reclaim(&self) -> Result<u64> {
        let (woke, n) = {
            let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
            st.maintain(OffsetDateTime::now_utc())
        };
        if woke {
            self.notifier.notify();
        }
        if n > 0 {
            self.freed();
        }
        Ok(n)
    }

    fn lease_timeout(&self) -> Duration {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).lease
    }

    fn set_lease_timeout(&self, timeout: Duration) {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).lease = timeout;
    }

    fn subscribe(&self) -> Subscription {
        self.notifier.subscribe()
    }

    async fn next_due(&self, _kinds: &[&str]) -> Option<Duration> {
        self.lock().next_due(OffsetDateTime::now_utc())
    }

    async fn close(&self) -> Result<()> {
        self.lock().closed = true;
        self.room.notify_waiters();
        Ok(())
    }
}

#[async_trait]
impl Browsable for MemoryQueue {
    async fn list_jobs(&self, state: Option<JobState>, limit: usize) -> Result<Vec<Job>> {
        Ok(self.lock().list(state, list_limit(limit)))
    }

    async fn get_job(&self, id: JobId) -> Result<Option<Job>> {
        Ok(self.lock().get(id))
    }

    async fn stats(&self) -> Result<Stats> {
        Ok(self.lock().stats())
    }
}

#[async_trait]
impl Replayable for MemoryQueue {
    async fn replay(&self, id: JobId) -> Result<bool> {
        let done = self.lock().replay(id, OffsetDateTime::now_utc());
        if done {
            self.notifier.notify();
        }
        Ok(done)
    }
}
