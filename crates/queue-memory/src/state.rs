//! The job table and the indexes over it, behind the queue's one lock.
//!
//! Nothing here reads the clock or sleeps: every method takes `now` (both clocks, see
//! [`crate::clock`]), so the rules can be tested at exact instants. Deadlines (leases,
//! delays, windows) are kept on the monotonic reading; reported times on the wall one.
//!
//! Costs, with `n` jobs, `k` kinds and a batch of `b`, amortized (see [`crate::sorted`]:
//! new jobs, leases and claims in first-in first-out order take O(1) of the log factors):
//!
//! | operation | cost |
//! |---|---|
//! | enqueue | O(b log n) |
//! | claim one, any kind | O(log n + log k) |
//! | claim one, `f` kinds | O(f log n) |
//! | ack, nack, discard, snooze, heartbeat, cancel, replay | O(log n) |
//! | maintenance | O(log n) per job promoted or reclaimed, O(log n) when idle |
//! | list | O(n log limit) (a scan: listing is for inspection) |
//! | get, stats, next due | O(1), O(1), O(log n) |
//! | oldest due | O(k p log n), for `p` priorities present |
//! | run now, delete | O(log n) |
//! | purge | O(log n) per job purged, plus the jobs of the other state sharing its ring |

use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use queue_core::{
    CancelOutcome, ClaimToken, Job, JobId, JobState, Lease, LeaseStatus, Limit, LimitStats, NewJob,
    QueueError, Result, RetryPolicy, RunAt, Stats, Unique, LEASE_EXPIRED,
};

use crate::clock::{after, mono_after, nanos, until, utc, Nanos, Now};
use crate::id_hash::{IdMap, IdSet};
use crate::limiter::{Held, Limiter};
use crate::ready::{KindId, ReadyIndex, ReadyKey};
use crate::retention::Retention;
use crate::timeline::Timeline;
use crate::unique::UniqueIndex;

/// A validated job about to be stored.
#[derive(Debug)]
pub(crate) struct Candidate {
    /// What the caller asked for.
    pub job: NewJob,
    /// Its id (given or fresh).
    pub id: JobId,
    /// Its attempts, defaulted.
    pub max_attempts: u32,
}

/// The outcome of [`State::enqueue`].
#[derive(Debug)]
pub(crate) enum Enqueued {
    /// Stored (or de-duplicated); the ids, in order.
    Stored(Vec<JobId>),
    /// Over capacity: nothing was stored, the batch comes back. `retry_in` is when the
    /// next lease runs out (which may free room without any call), if any is held.
    Full {
        batch: Vec<Candidate>,
        retry_in: Option<Duration>,
    },
}

/// What happened under the lock that others should hear about once it is released.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Events {
    /// A job was filed as pending (due now or later): idle workers should look again.
    pub ready: bool,
    /// A job left the live (pending or running) set: blocked enqueuers may fit now.
    pub freed: bool,
}

/// A stored job and what the indexes need to find it again.
#[derive(Debug)]
struct Slot {
    job: Job,
    kind: KindId,
    /// When the job's unique window ends, if its key has one (monotonic).
    window: Option<Nanos>,
    /// When the job is due while pending (monotonic): its key in the delayed timeline.
    due: Nanos,
    /// When its lease runs out while running (monotonic): its key in the lease timeline.
    deadline: Option<Nanos>,
    /// Its number in the retention ring of its final state.
    retained: Option<u64>,
    /// When it reached its final state (monotonic): what purge measures ages by.
    finished: Option<Nanos>,
}

impl Slot {
    fn ready_key(&self) -> ReadyKey {
        (
            Reverse(self.job.priority),
            nanos(self.job.scheduled_at),
            self.job.id,
        )
    }
}

/// Settings the state needs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub retry: RetryPolicy,
    pub capacity: Option<usize>,
    pub keep_completed: usize,
    pub keep_failed: usize,
}

/// Every job and every index. See the module docs for costs.
#[derive(Debug)]
pub(crate) struct State {
    /// Every retained job by id. Boxed: the table moves its values when it grows, and a
    /// job is a few hundred bytes.
    jobs: IdMap<Box<Slot>>,
    /// Jobs per state. Only counts: an index per state would cost every transition an
    /// ordered insert and remove, for the sake of listing, which scans instead.
    by_state: [usize; 5],
    /// Due pending jobs.
    ready: ReadyIndex,
    /// Pending jobs not yet due, by when they are due (monotonic).
    delayed: Timeline,
    /// Running jobs, by lease deadline (monotonic).
    leases: Timeline,
    unique: UniqueIndex,
    /// The limited kinds and what counts against their limits.
    limiter: Limiter,
    /// Completed and cancelled jobs.
    finished: Retention,
    /// Failed jobs.
    dead: Retention,
    retry: RetryPolicy,
    capacity: Option<usize>,
    closed: bool,
    events: Events,
}

fn slot_of(s: JobState) -> usize {
    match s {
        JobState::Pending => 0,
        JobState::Running => 1,
        JobState::Completed => 2,
        JobState::Failed => 3,
        JobState::Cancelled => 4,
    }
}

/// The slot of the running job `lease` names, if that claim still holds it.
fn held<'a>(jobs: &'a mut IdMap<Box<Slot>>, lease: &Lease) -> Result<&'a mut Slot> {
    match jobs.get_mut(&lease.id) {
        Some(slot)
            if slot.job.state == JobState::Running
                && slot.job.lease.map(|l| l.token) == Some(lease.token) =>
        {
            Ok(slot)
        }
        _ => Err(QueueError::LeaseLost(lease.id)),
    }
}

/// Moves `job` to `to` in itself and in the state index; returns the state it left.
fn move_state(by_state: &mut [usize; 5], job: &mut Job, to: JobState) -> JobState {
    let from = std::mem::replace(&mut job.state, to);
    by_state[slot_of(from)] -= 1;
    by_state[slot_of(to)] += 1;
    from
}

/// Files a pending job under ready or delayed by when it is due.
fn file(ready: &mut ReadyIndex, delayed: &mut Timeline, slot: &Slot, now: Nanos) {
    if slot.due <= now {
        ready.insert(slot.kind, slot.ready_key());
    } else {
        delayed.insert(slot.due, slot.job.id);
    }
}

fn is_live(s: JobState) -> bool {
    matches!(s, JobState::Pending | JobState::Running)
}

impl State {
    pub fn new(limits: Limits) -> Self {
        State {
            jobs: IdMap::default(),
            by_state: Default::default(),
            ready: ReadyIndex::default(),
            delayed: Timeline::default(),
            leases: Timeline::default(),
            unique: UniqueIndex::default(),
            limiter: Limiter::default(),
            finished: Retention::new(limits.keep_completed),
            dead: Retention::new(limits.keep_failed),
            retry: limits.retry,
            capacity: limits.capacity,
            closed: false,
            events: Events::default(),
        }
    }

    /// Stops accepting jobs.
    pub fn close(&mut self) {
        self.closed = true;
    }

    /// The events since the last call.
    pub fn take_events(&mut self) -> Events {
        std::mem::take(&mut self.events)
    }

    /// Pending plus running jobs.
    pub fn live(&self) -> usize {
        self.by_state[slot_of(JobState::Pending)] + self.by_state[slot_of(JobState::Running)]
    }

    /// Promotes due delayed jobs, reclaims expired leases and forgets lapsed unique
    /// windows. Returns how many leases were reclaimed.
    pub fn maintain(&mut self, now: impl Into<Now>) -> u64 {
        let now = now.into();
        let n = now.mono;
        while let Some((_, id)) = self.delayed.pop_due(n) {
            if let Some(slot) = self.jobs.get(&id) {
                self.ready.insert(slot.kind, slot.ready_key());
                self.events.ready = true;
            }
        }
        let mut reclaimed = 0;
        while let Some((_, id)) = self.leases.pop_due(n) {
            reclaimed += 1;
            self.expire_lease(id, now);
        }
        self.unique.expire(n);
        reclaimed
    }

    /// A running job whose lease ran out: due again now, or dead when out of attempts.
    fn expire_lease(&mut self, id: JobId, now: Now) {
        let Some(slot) = self.jobs.get_mut(&id) else {
            return;
        };
        slot.job.lease = None;
        slot.deadline = None;
        if self
            .limiter
            .stop(slot.kind, slot.job.concurrency_key.as_deref())
        {
            self.events.ready = true;
        }
        let job = &mut slot.job;
        tracing::debug!(job.id = %id, job.kind = %job.kind, job.attempt = job.attempts, "lease expired");
        if job.cancel_requested {
            self.finish(id, JobState::Cancelled, now);
        } else if job.attempts >= job.max_attempts {
            job.last_error = Some(LEASE_EXPIRED.to_owned());
            self.finish(id, JobState::Failed, now);
        } else {
            self.reschedule(id, now, Duration::ZERO);
        }
    }

    /// Stores a batch, all or nothing. Unique keys held (or repeated earlier in the batch)
    /// store nothing and give the holder's id.
    pub fn enqueue(&mut self, batch: Vec<Candidate>, now: impl Into<Now>) -> Result<Enqueued> {
        if self.closed {
            return Err(QueueError::Closed);
        }
        let now = now.into();
        let n = now.mono;
        let mut ids = Vec::with_capacity(batch.len());
        let mut store = Vec::with_capacity(batch.len());
        {
            let mut keys: HashMap<&str, JobId> = HashMap::new();
            let mut fresh = IdSet::with_capacity_and_hasher(batch.len(), Default::default());
            for c in &batch {
                if let Some(u) = &c.job.unique {
                    let held = keys
                        .get(u.key.as_str())
                        .copied()
                        .or_else(|| self.unique.holder(&u.key, n));
                    if let Some(holder) = held {
                        ids.push(holder);
                        store.push(false);
                        continue;
                    }
                    keys.insert(&u.key, c.id);
                }
                if self.jobs.contains_key(&c.id) || !fresh.insert(c.id) {
                    return Err(QueueError::InvalidJob(format!(
                        "a job with id {} already exists",
                        c.id
                    )));
                }
                ids.push(c.id);
                store.push(true);
            }
        }
        let count = store.iter().filter(|s| **s).count();
        if let Some(cap) = self.capacity {
            if count > 0 && self.live() + count > cap {
                let retry_in = self.leases.next().map(|at| until(n, at));
                return Ok(Enqueued::Full { batch, retry_in });
            }
        }
        for (c, keep) in batch.into_iter().zip(store) {
            if keep {
                self.insert(c, now);
            }
        }
        Ok(Enqueued::Stored(ids))
    }

    fn insert(&mut self, c: Candidate, now: Now) {
        let NewJob {
            kind,
            payload,
            priority,
            run_at,
            unique,
            concurrency_key,
            ..
        } = c.job;
        let id = c.id;
        let (scheduled_at, due) = match run_at {
            RunAt::Now => (now.wall, now.mono),
            RunAt::After(d) => (after(now.wall, d), mono_after(now.mono, d)),
            // An instant is a wall-clock time: due after as long as it is ahead now.
            RunAt::At(t) => (utc(t), now.mono.saturating_add(nanos(t) - nanos(now.wall))),
        };
        let (unique_key, window) = match unique {
            Some(Unique { key, window }) => {
                let until = window.map(|w| mono_after(now.mono, w));
                self.unique.hold(key.clone(), id, until);
                (Some(key), until)
            }
            None => (None, None),
        };
        let slot = Slot {
            kind: self.ready.intern(&kind),
            job: Job {
                id,
                kind,
                payload,
                priority,
                attempts: 0,
                max_attempts: c.max_attempts,
                created_at: now.wall,
                scheduled_at,
                state: JobState::Pending,
                unique_key,
                concurrency_key,
                last_error: None,
                lease: None,
                output: None,
                cancel_requested: false,
                finished_at: None,
            },
            window,
            due,
            deadline: None,
            retained: None,
            finished: None,
        };
        // Filed before it goes in the table: one lookup less.
        file(&mut self.ready, &mut self.delayed, &slot, now.mono);
        self.events.ready = true;
        self.jobs.insert(id, Box::new(slot));
        self.by_state[slot_of(JobState::Pending)] += 1;
    }

    /// Files a pending job under ready or delayed by when it is due.
    fn schedule(&mut self, id: JobId, now: Nanos) {
        let Some(slot) = self.jobs.get(&id) else {
            return;
        };
        file(&mut self.ready, &mut self.delayed, slot, now);
        // A delayed job also wakes idle workers: they may be sleeping past its time.
        self.events.ready = true;
    }

    /// Takes a pending job out of ready or delayed.
    fn unschedule(&mut self, id: JobId) {
        let Some(slot) = self.jobs.get(&id) else {
            return;
        };
        if !self.ready.remove(slot.kind, &slot.ready_key()) {
            self.delayed.remove(slot.due, id);
        }
    }

    /// Moves a job to `to` in the job and the state index; returns the state it left.
    fn set_state(&mut self, id: JobId, to: JobState) -> Option<JobState> {
        let slot = self.jobs.get_mut(&id)?;
        Some(move_state(&mut self.by_state, &mut slot.job, to))
    }

    /// Makes a job pending again, due `delay` from now.
    fn reschedule(&mut self, id: JobId, now: Now, delay: Duration) {
        let Some(slot) = self.jobs.get_mut(&id) else {
            return;
        };
        slot.job.scheduled_at = after(now.wall, delay);
        slot.job.finished_at = None;
        slot.due = mono_after(now.mono, delay);
        slot.finished = None;
        self.set_state(id, JobState::Pending);
        self.schedule(id, now.mono);
    }

    /// Claims up to `max` due jobs of `kinds` (every kind when empty), best first, each
    /// with a lease of `lease`.
    pub fn claim(
        &mut self,
        kinds: &[&str],
        max: usize,
        now: impl Into<Now>,
        lease: Duration,
    ) -> Vec<Job> {
        let now = now.into();
        let filter: Option<Vec<KindId>> = if kinds.is_empty() {
            None
        } else {
            Some(kinds.iter().filter_map(|k| self.ready.lookup(k)).collect())
        };
        if max == 0 || filter.as_ref().is_some_and(Vec::is_empty) {
            return Vec::new();
        }
        let expires_at = after(now.wall, lease);
        let deadline = mono_after(now.mono, lease);
        // Limited kinds' picks, in claim order, merged below with the plain claim's.
        let mut limited = self
            .limited_picks(filter.as_deref(), max, now.mono)
            .into_iter();
        let mut next_limited = limited.next();
        let mut out = Vec::with_capacity(max.min(1024));
        while out.len() < max {
            let plain = match &filter {
                None => self.ready.first_any(),
                Some(kinds) => self.ready.first_among(kinds),
            };
            let (key, kind) = match (plain, next_limited) {
                (Some(p), Some(l)) if l < p => {
                    next_limited = limited.next();
                    l
                }
                (Some(p), _) => p,
                (None, Some(l)) => {
                    next_limited = limited.next();
                    l
                }
                (None, None) => break,
            };
            self.ready.remove(kind, &key);
            let id = key.2;
            let Some(slot) = self.jobs.get_mut(&id) else {
                continue;
            };
            if !self.limiter.is_empty() {
                self.limiter
                    .start(kind, slot.job.concurrency_key.as_deref(), now.mono);
            }
            slot.deadline = Some(deadline);
            let job = &mut slot.job;
            move_state(&mut self.by_state, job, JobState::Running);
            job.attempts = job.attempts.saturating_add(1);
            job.lease = Some(Lease {
                id,
                token: ClaimToken::random(),
                expires_at,
            });
            out.push(job.clone());
            self.leases.insert(deadline, id);
        }
        out
    }

    /// Up to `max` due jobs of the limited kinds among `filter` (every limited kind when
    /// `None`) that their limits let start now, in claim order with their kinds. Steps
    /// over the jobs of keys at their limit; stops at a kind at its limit.
    fn limited_picks(
        &self,
        filter: Option<&[KindId]>,
        max: usize,
        now: Nanos,
    ) -> Vec<(ReadyKey, KindId)> {
        if self.limiter.is_empty() {
            return Vec::new();
        }
        let mut picks = Vec::new();
        for kind in self.limiter.kinds() {
            if filter.is_some_and(|f| !f.contains(&kind)) || self.ready.is_paused(kind) {
                continue;
            }
            let Some(held) = self.limiter.get(kind) else {
                continue;
            };
            let mut room = held.room(now);
            let mut taken = 0;
            for key in self.ready.iter_kind(kind) {
                if taken == max || room.is_spent() {
                    break;
                }
                let job_key = self
                    .jobs
                    .get(&key.2)
                    .and_then(|s| s.job.concurrency_key.as_deref());
                if room.take(job_key) {
                    picks.push((*key, kind));
                    taken += 1;
                }
            }
        }
        picks.sort_unstable();
        picks.truncate(max);
        picks
    }

    /// Ends a claim that still holds: its lease goes; the job stays running for the
    /// caller to move on.
    fn release(&mut self, lease: &Lease) -> Result<&mut Job> {
        let slot = held(&mut self.jobs, lease)?;
        slot.job.lease = None;
        if let Some(deadline) = slot.deadline.take() {
            self.leases.remove(deadline, lease.id);
        }
        if self
            .limiter
            .stop(slot.kind, slot.job.concurrency_key.as_deref())
        {
            // A slot came free: idle workers may take the next job of the kind.
            self.events.ready = true;
        }
        Ok(&mut slot.job)
    }

    pub fn ack(&mut self, lease: &Lease, now: impl Into<Now>) -> Result<()> {
        self.complete(lease, None, now)
    }

    /// An ack that keeps the handler's output on the completed job.
    pub fn complete(
        &mut self,
        lease: &Lease,
        output: Option<serde_json::Value>,
        now: impl Into<Now>,
    ) -> Result<()> {
        let job = self.release(lease)?;
        job.output = output;
        self.finish(lease.id, JobState::Completed, now.into());
        Ok(())
    }

    pub fn nack(&mut self, lease: &Lease, error: &str, now: impl Into<Now>) -> Result<()> {
        let now = now.into();
        let retry = self.retry;
        let job = self.release(lease)?;
        job.last_error = Some(error.to_owned());
        if job.cancel_requested {
            self.finish(lease.id, JobState::Cancelled, now);
        } else if job.attempts >= job.max_attempts {
            self.finish(lease.id, JobState::Failed, now);
        } else {
            let delay = retry.delay(job.attempts);
            self.reschedule(lease.id, now, delay);
        }
        Ok(())
    }

    pub fn discard(&mut self, lease: &Lease, reason: &str, now: impl Into<Now>) -> Result<()> {
        let job = self.release(lease)?;
        job.last_error = Some(reason.to_owned());
        let to = if job.cancel_requested {
            JobState::Cancelled
        } else {
            JobState::Failed
        };
        self.finish(lease.id, to, now.into());
        Ok(())
    }

    pub fn snooze(&mut self, lease: &Lease, delay: Duration, now: impl Into<Now>) -> Result<()> {
        let now = now.into();
        let job = self.release(lease)?;
        if job.cancel_requested {
            self.finish(lease.id, JobState::Cancelled, now);
            return Ok(());
        }
        job.attempts = job.attempts.saturating_sub(1);
        self.reschedule(lease.id, now, delay);
        Ok(())
    }

    /// Extends a held lease to `now + timeout`, saying whether the job has a cancel
    /// request; `Lost` when the claim no longer holds.
    pub fn heartbeat(
        &mut self,
        lease: &Lease,
        now: impl Into<Now>,
        timeout: Duration,
    ) -> LeaseStatus {
        let now = now.into();
        let Ok(slot) = held(&mut self.jobs, lease) else {
            return LeaseStatus::Lost;
        };
        let requested = slot.job.cancel_requested;
        let Some(current) = slot.job.lease.as_mut() else {
            return LeaseStatus::Lost;
        };
        current.expires_at = after(now.wall, timeout);
        let deadline = mono_after(now.mono, timeout);
        if let Some(old) = slot.deadline.replace(deadline) {
            self.leases.remove(old, lease.id);
        }
        self.leases.insert(deadline, lease.id);
        if requested {
            LeaseStatus::CancelRequested
        } else {
            LeaseStatus::Held
        }
    }

    /// Cancels a pending job, or records a cancel request on a running one.
    pub fn cancel(&mut self, id: JobId, now: impl Into<Now>) -> CancelOutcome {
        let Some(slot) = self.jobs.get_mut(&id) else {
            return CancelOutcome::Unchanged;
        };
        match slot.job.state {
            JobState::Pending => {
                self.unschedule(id);
                self.finish(id, JobState::Cancelled, now.into());
                CancelOutcome::Cancelled
            }
            JobState::Running => {
                slot.job.cancel_requested = true;
                CancelOutcome::Requested
            }
            _ => CancelOutcome::Unchanged,
        }
    }

    /// Moves a failed job back to pending, due now, attempts reset. Its `last_error`
    /// stays as a record of why it had failed. A key without a window is held again if
    /// no other job took it meanwhile.
    pub fn replay(&mut self, id: JobId, now: impl Into<Now>) -> bool {
        let now = now.into();
        let n = now.mono;
        let Some(slot) = self.jobs.get_mut(&id) else {
            return false;
        };
        if slot.job.state != JobState::Failed {
            return false;
        }
        if let Some(seq) = slot.retained.take() {
            self.dead.remove(seq);
        }
        slot.job.attempts = 0;
        slot.job.lease = None;
        if let (Some(key), None) = (&slot.job.unique_key, slot.window) {
            if self.unique.holder(key, n).is_none() {
                self.unique.hold(key.clone(), id, None);
            }
        }
        self.reschedule(id, now, Duration::ZERO);
        true
    }

    /// Moves a job into a final state, frees what it held, and applies retention.
    fn finish(&mut self, id: JobId, to: JobState, now: Now) {
        let Some(slot) = self.jobs.get_mut(&id) else {
            return;
        };
        if is_live(move_state(&mut self.by_state, &mut slot.job, to)) {
            self.events.freed = true;
        }
        slot.job.lease = None;
        slot.job.finished_at = Some(now.wall);
        slot.finished = Some(now.mono);
        if let Some(key) = &slot.job.unique_key {
            self.unique.release(key, id);
        }
        let seq = self.ring_mut(to).admit(id);
        if let Some(slot) = self.jobs.get_mut(&id) {
            slot.retained = Some(seq);
        }
        while let Some(old) = self.ring_mut(to).evict() {
            self.forget(old);
        }
    }

    /// The retention ring of jobs that finished in `state`.
    fn ring(&self, state: JobState) -> &Retention {
        if state == JobState::Failed {
            &self.dead
        } else {
            &self.finished
        }
    }

    /// [`State::ring`], to change.
    fn ring_mut(&mut self, state: JobState) -> &mut Retention {
        if state == JobState::Failed {
            &mut self.dead
        } else {
            &mut self.finished
        }
    }

    /// Drops a finished job for good (a unique window it started stays held).
    fn forget(&mut self, id: JobId) {
        if let Some(slot) = self.jobs.remove(&id) {
            self.by_state[slot_of(slot.job.state)] -= 1;
        }
    }

    pub fn get(&self, id: JobId) -> Option<Job> {
        self.jobs.get(&id).map(|s| s.job.clone())
    }

    /// Pauses or resumes `kind`. A resume files nothing anew (the kind's due jobs stayed
    /// in the ready index) but wakes idle workers.
    pub fn set_paused(&mut self, kind: &str, paused: bool) {
        if self.ready.set_paused(kind, paused) && !paused {
            self.events.ready = true;
        }
    }

    /// The paused kinds, sorted.
    pub fn paused(&self) -> Vec<String> {
        self.ready.paused()
    }

    /// Stores the limit of `kind`, counting its running jobs (a scan of the jobs, once).
    /// A changed limit keeps the starts already counted against its rates.
    pub fn set_limit(&mut self, kind: &str, limit: Limit, now: Nanos) {
        let id = self.ready.intern(kind);
        let mut held = match self.limiter.remove(id) {
            Some(mut old) => {
                old.limit = limit.clone();
                old
            }
            None => Held::new(limit.clone()),
        };
        held.recount(
            self.jobs
                .values()
                .filter(|s| s.kind == id && s.job.state == JobState::Running)
                .map(|s| s.job.concurrency_key.as_deref()),
        );
        held.trim(now);
        self.limiter.insert(id, held);
        self.ready.set_limited(id, true);
        self.events.ready = true;
    }

    /// Removes the limit of `kind`, if any.
    pub fn clear_limit(&mut self, kind: &str) {
        if let Some(id) = self.ready.lookup(kind) {
            if self.limiter.remove(id).is_some() {
                self.ready.set_limited(id, false);
                self.events.ready = true;
            }
        }
    }

    /// The stored limits, by kind.
    pub fn limits(&self) -> BTreeMap<String, Limit> {
        self.limiter
            .kinds()
            .filter_map(|k| {
                Some((
                    self.ready.name(k).to_owned(),
                    self.limiter.get(k)?.limit.clone(),
                ))
            })
            .collect()
    }

    pub fn stats(&self) -> Stats {
        let mut stats = Stats {
            paused: self.ready.paused(),
            ..Stats::default()
        };
        for s in JobState::ALL {
            *stats.get_mut(s) = self.by_state[slot_of(s)] as u64;
        }
        stats
    }

    /// The limited kinds, sorted, with their running jobs and the due jobs their limits
    /// hold back (a scan of those kinds' due jobs).
    pub fn limit_stats(&self, now: Nanos) -> Vec<LimitStats> {
        let mut out = Vec::new();
        for kind in self.limiter.kinds() {
            let Some(held) = self.limiter.get(kind) else {
                continue;
            };
            let due = self.ready.iter_kind(kind).count();
            let waiting = if self.ready.is_paused(kind) {
                0
            } else {
                due - self.limited_picks(Some(&[kind]), due, now).len()
            };
            out.push(LimitStats {
                kind: self.ready.name(kind).to_owned(),
                limit: held.limit.clone(),
                running: held.running() as u64,
                waiting: waiting as u64,
            });
        }
        out.sort_by(|a, b| a.kind.cmp(&b.kind));
        out
    }

    /// Time until the next delayed job is due or the next lease runs out.
    pub fn next_due(&self, now: impl Into<Now>) -> Option<Duration> {
        let soonest = match (self.delayed.next(), self.leases.next()) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => a.or(b)?,
        };
        Some(until(now.into().mono, soonest))
    }
}

mod admin;
#[cfg(test)]
mod tests;
