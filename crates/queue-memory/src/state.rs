//! The indexes behind a `MemoryQueue`. Every operation is O(log n) in the number of jobs
//! (claims also look at one head per requested kind).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::time::Duration;

use queue_core::{
    ClaimToken, Job, JobId, JobState, Lease, QueueError, Result, RetryPolicy, Stats, LEASE_EXPIRED,
};
use time::OffsetDateTime;

/// Nanoseconds since the epoch: exact, totally ordered keys.
pub(crate) type Nanos = i128;

pub(crate) fn nanos(t: OffsetDateTime) -> Nanos {
    t.unix_timestamp_nanos()
}

pub(crate) fn plus(t: OffsetDateTime, d: Duration) -> OffsetDateTime {
    t.checked_add(time::Duration::try_from(d).unwrap_or(time::Duration::MAX))
        .unwrap_or(OffsetDateTime::new_utc(
            time::Date::MAX,
            time::Time::MIDNIGHT,
        ))
}

/// Ready order: highest priority, then earliest schedule, then lowest id.
type ReadyKey = (Reverse<i32>, Nanos, JobId);

/// Who holds a unique key, and until when (`None`: until the job is final).
struct Hold {
    id: JobId,
    until: Option<Nanos>,
}

pub(crate) struct State {
    /// Every retained job, by id (ids sort by creation, so this is also newest-last).
    jobs: BTreeMap<JobId, Job>,
    ready: HashMap<String, BTreeSet<ReadyKey>>,
    delayed: BTreeSet<(Nanos, JobId)>,
    leases: BTreeSet<(Nanos, JobId)>,
    by_state: [BTreeSet<JobId>; 5],
    /// Finished jobs in the order they finished, for bounded retention.
    completed_order: VecDeque<JobId>,
    failed_order: VecDeque<JobId>,
    unique: HashMap<String, Hold>,
    pub keep_completed: usize,
    pub keep_failed: usize,
    pub retry: RetryPolicy,
    pub lease: Duration,
    pub closed: bool,
}

fn slot(s: JobState) -> usize {
    match s {
        JobState::Pending => 0,
        JobState::Running => 1,
        JobState::Completed => 2,
        JobState::Failed => 3,
        JobState::Cancelled => 4,
    }
}

/// What a settled lease turned into, for the caller's wake-ups.
pub(crate) enum Settled {
    /// Pending again (maybe later).
    Requeued,
    /// In a final state.
    Final,
}

impl State {
    pub fn new(
        lease: Duration,
        retry: RetryPolicy,
        keep_completed: usize,
        keep_failed: usize,
    ) -> State {
        State {
            jobs: BTreeMap::new(),
            ready: HashMap::new(),
            delayed: BTreeSet::new(),
            leases: BTreeSet::new(),
            by_state: Default::default(),
            completed_order: VecDeque::new(),
            failed_order: VecDeque::new(),
            unique: HashMap::new(),
            keep_completed,
            keep_failed,
            retry,
            lease,
            closed: false,
        }
    }

    /// Pending plus running.
    pub fn live(&self) -> usize {
        self.by_state[0].len() + self.by_state[1].len()
    }

    pub fn contains(&self, id: JobId) -> bool {
        self.jobs.contains_key(&id)
    }

    /// The id holding `key` at `now`, forgetting holds that have lapsed.
    pub fn unique_holder(&mut self, key: &str, now: Nanos) -> Option<JobId> {
        let hold = self.unique.get(key)?;
        let held = match hold.until {
            Some(until) => until > now,
            None => self.jobs.get(&hold.id).is_some_and(|j| !j.state.is_final()),
        };
        if held {
            Some(hold.id)
        } else {
            self.unique.remove(key);
            None
        }
    }

    /// Stores a new pending job (already validated and defaulted).
    pub fn insert(&mut self, job: Job, window_until: Option<Nanos>, now: Nanos) {
        if let Some(key) = &job.unique_key {
            self.unique.insert(
                key.clone(),
                Hold {
                    id: job.id,
                    until: window_until,
                },
            );
        }
        let id = job.id;
        self.by_state[slot(JobState::Pending)].insert(id);
        self.schedule(&job, now);
        self.jobs.insert(id, job);
    }

    /// Files a pending job under ready or delayed.
    fn schedule(&mut self, job: &Job, now: Nanos) {
        let at = nanos(job.scheduled_at);
        if at <= now {
            self.ready.entry(job.kind.clone()).or_default().insert((
                Reverse(job.priority),
                at,
                job.id,
            ));
        } else {
            self.delayed.insert((at, job.id));
        }
    }

    fn set_state(&mut self, id: JobId, from: JobState, to: JobState) {
        self.by_state[slot(from)].remove(&id);
        self.by_state[slot(to)].insert(id);
    }

    /// Promotes due delayed jobs and reclaims expired leases. Returns whether any job
    /// became claimable.
    pub fn maintain(&mut self, now: OffsetDateTime) -> (bool, u64) {
        let n = nanos(now);
        let mut woke = false;
        while let Some(&(at, id)) = self.delayed.first() {
            if at > n {
                break;
            }
            self.delayed.pop_first();
            if let Some(job) = self.jobs.get(&id) {
                let key = (Reverse(job.priority), at, id);
                self.ready.entry(job.kind.clone()).or_default().insert(key);
                woke = true;
            }
        }
        let mut reclaimed = 0;
        while let Some(&(deadline, id)) = self.leases.first() {
            if deadline >= n {
                break;
            }
            self.leases.pop_first();
            reclaimed += 1;
            let Some(job) = self.jobs.get_mut(&id) else {
                continue;
            };
            job.lease = None;
            if job.attempts >= job.max_attempts {
                job.last_error = Some(LEASE_EXPIRED.to_string());
                self.finish(id, JobState::Running, JobState::Failed);
            } else {
                job.scheduled_at = now;
                self.requeue(id, now);
                woke = true;
            }
        }
        (woke, reclaimed)
    }

    /// Claims up to `max` jobs of `kinds` (all kinds when empty), best first.
    pub fn claim(&mut self, kinds: &[&str], max: usize, now: OffsetDateTime) -> Vec<Job> {
        let mut out = Vec::new();
        let deadline = plus(now, self.lease);
        while out.len() < max {
            let best: Option<(ReadyKey, String)> = if kinds.is_empty() {
                self.ready
                    .iter()
                    .filter_map(|(k, set)| set.first().map(|key| (*key, k.clone())))
                    .min_by_key(|(key, _)| *key)
            } else {
                kinds
                    .iter()
                    .filter_map(|k| {
                        self.ready
                            .get(*k)
                            .and_then(|set| set.first())
                            .map(|key| (*key, (*k).to_string()))
                    })
                    .min_by_key(|(key, _)| *key)
            };
            let Some((key, kind)) = best else { break };
            if let Some(set) = self.ready.get_mut(&kind) {
                set.remove(&key);
                if set.is_empty() {
                    self.ready.remove(&kind);
                }
            }
            let id = key.2;
            let Some(job) = self.jobs.get_mut(&id) else {
                continue;
            };
            job.attempts += 1;
            job.state = JobState::Running;
            job.lease = Some(Lease {
                id,
                token: ClaimToken::random(),
                expires_at: deadline,
            });
            out.push(job.clone());
            self.leases.insert((nanos(deadline), id));
            self.set_state(id, JobState::Pending, JobState::Running);
        }
        out
    }

    /// The running job `lease` names, if the lease still holds it.
    fn held(&mut self, lease: &Lease) -> Result<&mut Job> {
        match self.jobs.get_mut(&lease.id) {
            Some(j)
                if j.state == JobState::Running
                    && j.lease.map(|l| l.token) == Some(lease.token) =>
            {
                Ok(j)
            }
            _ => Err(QueueError::LeaseLost(lease.id)),
        }
    }

    /// Ends a claim: the lease entry goes, the job stays where it is.
    fn release(&mut self, lease: &Lease) -> Result<()> {
        let job = self.held(lease)?;
        let deadline = job.lease.map(|l| nanos(l.expires_at));
        job.lease = None;
        if let Some(d) = deadline {
            self.leases.remove(&(d, lease.id));
        }
        Ok(())
    }

    pub fn ack(&mut self, lease: &Lease) -> Result<()> {
        self.release(lease)?;
        self.finish(lease.id, JobState::Running, JobState::Completed);
        Ok(())
    }

    pub fn nack(&mut self, lease: &Lease, error: &str, now: OffsetDateTime) -> Result<Settled> {
        self.release(lease)?;
        let retry = self.retry;
        let Some(job) = self.jobs.get_mut(&lease.id) else {
            return Err(QueueError::LeaseLost(lease.id));
        };
        job.last_error = Some(error.to_string());
        if job.attempts >= job.max_attempts {
            self.finish(lease.id, JobState::Running, JobState::Failed);
            return Ok(Settled::Final);
        }
        job.scheduled_at = plus(now, retry.delay(job.attempts));
        self.requeue(lease.id, now);
        Ok(Settled::Requeued)
    }

    pub fn discard(&mut self, lease: &Lease, reason: &str) -> Result<()> {
        self.release(lease)?;
        if let Some(job) = self.jobs.get_mut(&lease.id) {
            job.last_error = Some(reason.to_string());
        }
        self.finish(lease.id, JobState::Running, JobState::Failed);
        Ok(())
    }

    pub fn snooze(&mut self, lease: &Lease, delay: Duration, now: OffsetDateTime) -> Result<()> {
        self.release(lease)?;
        if let Some(job) = self.jobs.get_mut(&lease.id) {
            job.attempts = job.attempts.saturating_sub(1);
            job.scheduled_at = plus(now, delay);
        }
        self.requeue(lease.id, now);
        Ok(())
    }

    fn requeue(&mut self, id: JobId, now: OffsetDateTime) {
        let Some(job) = self.jobs.get_mut(&id) else {
            return;
        };
        job.state = JobState::Pending;
        let job = job.clone();
        self.set_state(id, JobState::Running, JobState::Pending);
        self.schedule(&job, nanos(now));
    }

    pub fn heartbeat(&mut self, lease: &Lease, now: OffsetDateTime) -> bool {
        let deadline = plus(now, self.lease);
        let Ok(job) = self.held(lease) else {
            return false;
        };
        let old = job.lease.map(|l| nanos(l.expires_at));
        if let Some(l) = job.lease.as_mut() {
            l.expires_at = deadline;
        }
        if let Some(old) = old {
            self.leases.remove(&(old, lease.id));
        }
        self.leases.insert((nanos(deadline), lease.id));
        true
    }

    pub fn cancel(&mut self, id: JobId) -> bool {
        let Some(job) = self.jobs.get(&id) else {
            return false;
        };
        if job.state != JobState::Pending {
            return false;
        }
        let at = nanos(job.scheduled_at);
        let key = (Reverse(job.priority), at, id);
        let kind = job.kind.clone();
        if let Some(set) = self.ready.get_mut(&kind) {
            set.remove(&key);
            if set.is_empty() {
                self.ready.remove(&kind);
            }
        }
        self.delayed.remove(&(at, id));
        self.finish(id, JobState::Pending, JobState::Cancelled);
        true
    }

    pub fn replay(&mut self, id: JobId, now: OffsetDateTime) -> bool {
        let Some(job) = self.jobs.get_mut(&id) else {
            return false;
        };
        if job.state != JobState::Failed {
            return false;
        }
        job.state = JobState::Pending;
        job.attempts = 0;
        job.scheduled_at = now;
        let job = job.clone();
        self.failed_order.retain(|x| *x != id);
        self.set_state(id, JobState::Failed, JobState::Pending);
        self.schedule(&job, nanos(now));
        true
    }

    /// Moves a job into a final state and applies retention.
    fn finish(&mut self, id: JobId, from: JobState, to: JobState) {
        if let Some(job) = self.jobs.get_mut(&id) {
            job.state = to;
            job.lease = None;
        }
        self.set_state(id, from, to);
        let (order, keep) = if to == JobState::Failed {
            (&mut self.failed_order, self.keep_failed)
        } else {
            (&mut self.completed_order, self.keep_completed)
        };
        order.push_back(id);
        let mut evicted = Vec::new();
        while order.len() > keep {
            if let Some(old) = order.pop_front() {
                evicted.push(old);
            }
        }
        for old in evicted {
            self.forget(old);
        }
    }

    /// Drops a finished job for good. A unique window it still holds stays held.
    fn forget(&mut self, id: JobId) {
        if let Some(job) = self.jobs.remove(&id) {
            self.by_state[slot(job.state)].remove(&id);
            if let Some(key) = job.unique_key {
                if self
                    .unique
                    .get(&key)
                    .is_some_and(|h| h.id == id && h.until.is_none())
                {
                    self.unique.remove(&key);
                }
            }
        }
    }

    pub fn get(&self, id: JobId) -> Option<Job> {
        self.jobs.get(&id).cloned()
    }

    pub fn list(&self, state: Option<JobState>, limit: usize) -> Vec<Job> {
        let ids: Box<dyn Iterator<Item = &JobId>> = match state {
            None => Box::new(self.jobs.keys().rev()),
            Some(s) => Box::new(self.by_state[slot(s)].iter().rev()),
        };
        ids.take(limit)
            .filter_map(|id| self.jobs.get(id).cloned())
            .collect()
    }

    pub fn stats(&self) -> Stats {
        let mut s = Stats::default();
        for st in JobState::ALL {
            *s.get_mut(st) = self.by_state[slot(st)].len() as u64;
        }
        s
    }

    /// Time until the next delayed job is due or lease runs out, if any.
    pub fn next_due(&self, now: OffsetDateTime) -> Option<Duration> {
        let n = nanos(now);
        let soonest = [self.delayed.first(), self.leases.first()]
            .into_iter()
            .flatten()
            .map(|(at, _)| *at)
            .min()?;
        let wait = (soonest - n).max(0);
        Some(Duration::from_nanos(
            u64::try_from(wait).unwrap_or(u64::MAX),
        ))
    }
}
