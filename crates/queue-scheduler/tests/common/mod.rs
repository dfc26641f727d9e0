//! Test helpers: a fake queue with unique-key semantics and fault injection, and waits
//! that poll the scheduler's own state (never wall-clock durations).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use queue_core::{Job, JobId, Lease, NewJob, Queue, QueueError, RunAt};
use queue_scheduler::{Clock, ManualClock, ScheduleInfo, Scheduler};
use tokio::sync::Notify;

/// 2024-01-01T00:00:00Z: a multiple of 60 s and of 90 s since the epoch.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap()
}

pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

pub fn at(t0: DateTime<Utc>, s: i64) -> DateTime<Utc> {
    t0 + chrono::Duration::seconds(s)
}

/// A job as the fake queue stored it.
#[derive(Clone, Debug)]
pub struct Stored {
    pub id: JobId,
    pub job: NewJob,
    pub enqueued_at: DateTime<Utc>,
}

impl Stored {
    /// The run_at instant, as chrono.
    pub fn run_at(&self) -> DateTime<Utc> {
        match self.job.run_at {
            RunAt::At(t) => Utc.timestamp_nanos(t.unix_timestamp_nanos() as i64),
            other => panic!("scheduled jobs carry an explicit run_at, got {other:?}"),
        }
    }
}

#[derive(Default)]
struct State {
    jobs: Vec<Stored>,
    /// unique key → (holder, held until), by the fake queue's clock.
    keys: HashMap<String, (JobId, DateTime<Utc>)>,
    /// enqueue calls per kind, failed ones included.
    attempts: HashMap<String, usize>,
    /// kind → how many of its next enqueues fail with a transient error.
    fail_next: HashMap<String, usize>,
    /// kinds whose every enqueue fails with this error kind.
    fail_always: HashMap<String, Failure>,
    /// kinds whose enqueue waits on the gate.
    held: Vec<String>,
}

#[derive(Clone, Copy, Debug)]
pub enum Failure {
    Transient,
    Closed,
}

/// An in-process queue that implements `enqueue` faithfully (validation, unique keys held
/// for their window by the given clock) and can be told to fail or stall.
pub struct FakeQueue {
    clock: ManualClock,
    state: Mutex<State>,
    gate: Notify,
}

impl FakeQueue {
    pub fn new(clock: &ManualClock) -> Arc<Self> {
        Arc::new(FakeQueue {
            clock: clock.clone(),
            state: Mutex::new(State::default()),
            gate: Notify::new(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }

    pub fn jobs(&self) -> Vec<Stored> {
        self.lock().jobs.clone()
    }

    pub fn jobs_of(&self, kind: &str) -> Vec<Stored> {
        self.jobs()
            .into_iter()
            .filter(|j| j.job.kind == kind)
            .collect()
    }

    /// The run_at instants of `kind`'s jobs, in enqueue order.
    pub fn ticks_of(&self, kind: &str) -> Vec<DateTime<Utc>> {
        self.jobs_of(kind).iter().map(Stored::run_at).collect()
    }

    pub fn attempts(&self, kind: &str) -> usize {
        self.lock().attempts.get(kind).copied().unwrap_or(0)
    }

    pub fn fail_next(&self, kind: &str, n: usize) {
        self.lock().fail_next.insert(kind.to_string(), n);
    }

    pub fn fail_always(&self, kind: &str, how: Failure) {
        self.lock().fail_always.insert(kind.to_string(), how);
    }

    /// Stops failing `kind`.
    pub fn recover(&self, kind: &str) {
        let mut st = self.lock();
        st.fail_always.remove(kind);
        st.fail_next.remove(kind);
    }

    /// Makes enqueues of `kind` wait until [`FakeQueue::release`].
    pub fn hold(&self, kind: &str) {
        self.lock().held.push(kind.to_string());
    }

    pub fn release(&self) {
        self.lock().held.clear();
        self.gate.notify_waiters();
    }
}

#[async_trait]
impl Queue for FakeQueue {
    async fn enqueue(&self, job: NewJob) -> queue_core::Result<JobId> {
        loop {
            // Register interest before checking, so a release in between is not missed.
            let released = self.gate.notified();
            if !self.lock().held.contains(&job.kind) {
                break;
            }
            released.await;
        }
        let mut st = self.lock();
        *st.attempts.entry(job.kind.clone()).or_default() += 1;
        if let Some(how) = st.fail_always.get(&job.kind) {
            return Err(match how {
                Failure::Transient => {
                    QueueError::backend(std::io::Error::other("connection refused"))
                }
                Failure::Closed => QueueError::Closed,
            });
        }
        if let Some(n) = st.fail_next.get_mut(&job.kind).filter(|n| **n > 0) {
            *n -= 1;
            return Err(QueueError::backend(std::io::Error::other(
                "connection reset",
            )));
        }
        let prepared = job.prepare()?;
        let now = self.clock.now();
        if let Some(u) = &job.unique {
            if let Some((holder, until)) = st.keys.get(&u.key) {
                if *until > now {
                    return Ok(*holder);
                }
            }
            let window = u.window.expect("the scheduler always sets a window");
            st.keys.insert(
                u.key.clone(),
                (
                    prepared.id,
                    now + chrono::Duration::from_std(window).unwrap(),
                ),
            );
        }
        st.jobs.push(Stored {
            id: prepared.id,
            job,
            enqueued_at: now,
        });
        Ok(prepared.id)
    }

    async fn dequeue_batch(&self, _kinds: &[&str], _max: usize) -> queue_core::Result<Vec<Job>> {
        Ok(Vec::new())
    }

    async fn ack_batch(&self, leases: &[Lease]) -> queue_core::Result<Vec<queue_core::Result<()>>> {
        Ok(leases
            .iter()
            .map(|l| Err(QueueError::LeaseLost(l.id)))
            .collect())
    }

    async fn complete_batch(
        &self,
        done: &[queue_core::Completion],
    ) -> queue_core::Result<Vec<queue_core::Result<()>>> {
        Ok(done
            .iter()
            .map(|c| Err(QueueError::LeaseLost(c.lease.id)))
            .collect())
    }

    async fn nack(&self, lease: &Lease, _error: &str) -> queue_core::Result<()> {
        Err(QueueError::LeaseLost(lease.id))
    }

    async fn discard(&self, lease: &Lease, _reason: &str) -> queue_core::Result<()> {
        Err(QueueError::LeaseLost(lease.id))
    }

    async fn snooze(&self, lease: &Lease, _delay: Duration) -> queue_core::Result<()> {
        Err(QueueError::LeaseLost(lease.id))
    }

    async fn heartbeat(
        &self,
        leases: &[Lease],
    ) -> queue_core::Result<Vec<queue_core::LeaseStatus>> {
        Ok(vec![queue_core::LeaseStatus::Lost; leases.len()])
    }

    async fn cancel(&self, _id: JobId) -> queue_core::Result<queue_core::CancelOutcome> {
        Ok(queue_core::CancelOutcome::Unchanged)
    }

    async fn reclaim(&self) -> queue_core::Result<u64> {
        Ok(0)
    }

    fn lease_timeout(&self) -> Duration {
        queue_core::DEFAULT_LEASE_TIMEOUT
    }

    fn set_lease_timeout(&self, _timeout: Duration) {}

    /// The scheduler never pauses; a test that did would be told so.
    async fn pause_kind(&self, _kind: &str) -> queue_core::Result<()> {
        Err(QueueError::InvalidConfig("FakeQueue does not pause".into()))
    }

    async fn resume_kind(&self, _kind: &str) -> queue_core::Result<()> {
        Err(QueueError::InvalidConfig("FakeQueue does not pause".into()))
    }

    async fn paused_kinds(&self) -> queue_core::Result<Vec<String>> {
        Ok(Vec::new())
    }

    async fn set_limit(&self, _kind: &str, _limit: queue_core::Limit) -> queue_core::Result<()> {
        Ok(())
    }

    async fn clear_limit(&self, _kind: &str) -> queue_core::Result<()> {
        Ok(())
    }

    async fn limits(
        &self,
    ) -> queue_core::Result<std::collections::BTreeMap<String, queue_core::Limit>> {
        Ok(Default::default())
    }

    async fn close(&self) -> queue_core::Result<()> {
        Ok(())
    }
}

/// Polls `cond` (yielding to the scheduler's tasks) until it holds; fails the test after a
/// generous real-time bound so a bug shows up as a failure, not a hang.
pub async fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !cond() {
        if tokio::time::Instant::now() > deadline {
            panic!("timed out waiting until {what}");
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Waits until the scheduler has handled the clock's current time: every schedule's next
/// run is in the future and no tick is still being enqueued.
pub async fn settle(scheduler: &Scheduler, clock: &ManualClock) {
    let now = clock.now();
    wait_until("the scheduler settles", || {
        scheduler
            .schedules()
            .iter()
            .all(|s| s.next_run.is_some_and(|t| t > now) && s.pending == 0)
    })
    .await;
}

/// Advances the clock by `by` and waits for the scheduler to settle.
pub async fn advance(scheduler: &Scheduler, clock: &ManualClock, by: Duration) {
    clock.advance(by);
    settle(scheduler, clock).await;
}

pub fn only(scheduler: &Scheduler) -> ScheduleInfo {
    let all = scheduler.schedules();
    assert_eq!(all.len(), 1, "{all:?}");
    all.into_iter().next().unwrap()
}
