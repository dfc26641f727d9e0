//! The reference model: the rules every backend follows, as plain data, with no clock.
//!
//! Cases use delays of 0 or an hour only, leases of an hour and immediate retries, so
//! "due" is a flag rather than a time. What stands in for `scheduled_at` among due jobs
//! is a stamp: the number of the step that last set it to "now". The runner sleeps a few
//! milliseconds before every such step, so every backend's clock orders the steps the
//! same way, and jobs stamped by one step (a batch) fall back to id order, as in the
//! backends.

use std::collections::HashMap;

use queue_core::{
    CancelOutcome, ClaimToken, JobId, JobState, Lease, LeaseStatus, Stats, DEFAULT_MAX_ATTEMPTS,
    LEASE_EXPIRED,
};

use super::ops::{JobSpec, KEYS, KINDS};

/// One job as the model sees it.
#[derive(Clone, Debug)]
pub struct MJob {
    pub id: JobId,
    pub kind: &'static str,
    pub priority: i32,
    pub max_attempts: u32,
    pub attempts: u32,
    pub state: JobState,
    /// Pending and due (not held back for an hour).
    pub due: bool,
    /// The step that last made it due now.
    pub stamp: u64,
    pub unique_key: Option<&'static str>,
    /// Whether the key is held for a window (an hour: all the case) from enqueue.
    pub window: bool,
    /// The token of the claim that holds it, while running.
    pub token: Option<ClaimToken>,
    /// What `last_error` must be, when the model knows (a replay may or may not keep it).
    pub last_error: Option<Option<String>>,
    /// The output stored when it completed.
    pub output: Option<serde_json::Value>,
    /// Whether a cancel was requested while it ran: anything but success ends it
    /// `cancelled`.
    pub cancel_requested: bool,
    /// Deleted (by `delete`): gone from the backend, kept here so references to it and
    /// names in transcripts stay put.
    pub deleted: bool,
}

/// What an enqueue of one job must return.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// The id of the job holding its unique key.
    Holder(JobId),
    /// The id of an earlier job of the same batch that took the key.
    SameAs(usize),
    /// A new job: this explicit id, or (`None`) a fresh one the backend makes.
    New(Option<JobId>),
}

/// Holds of unique keys: holder and whether it is a window (held for the whole case).
type Holds = HashMap<&'static str, (JobId, bool)>;

/// Every job, in the order first seen.
#[derive(Debug, Default)]
pub struct Model {
    pub jobs: Vec<MJob>,
    index: HashMap<JobId, usize>,
    holds: Holds,
}

impl Model {
    /// The job with `id`, unless it was deleted.
    pub fn job(&self, id: JobId) -> Option<&MJob> {
        self.index
            .get(&id)
            .map(|&i| &self.jobs[i])
            .filter(|j| !j.deleted)
    }

    fn job_mut(&mut self, id: JobId) -> Option<&mut MJob> {
        self.index
            .get(&id)
            .map(|&i| &mut self.jobs[i])
            .filter(|j| !j.deleted)
    }

    /// The jobs still stored, in the order first seen.
    pub fn stored(&self) -> impl Iterator<Item = &MJob> {
        self.jobs.iter().filter(|j| !j.deleted)
    }

    /// Whether a job with `id` is stored (its id is taken).
    pub fn exists(&self, id: JobId) -> bool {
        self.job(id).is_some()
    }

    fn holder(&self, key: &str) -> Option<JobId> {
        self.holds.get(key).map(|&(id, _)| id)
    }

    /// What enqueuing `specs` (with the ids chosen for them) must return, or `None` when
    /// the batch must be refused because an id is taken.
    pub fn plan_enqueue(&self, specs: &[(JobSpec, Option<JobId>)]) -> Option<Vec<Expect>> {
        let mut taken: HashMap<&str, usize> = HashMap::new();
        let mut out = Vec::with_capacity(specs.len());
        for (i, (spec, id)) in specs.iter().enumerate() {
            if let Some((k, _)) = spec.unique {
                let key = KEYS[k];
                if let Some(&j) = taken.get(key) {
                    out.push(Expect::SameAs(j));
                    continue;
                }
                if let Some(holder) = self.holder(key) {
                    out.push(Expect::Holder(holder));
                    continue;
                }
                taken.insert(key, i);
            }
            if id.is_some_and(|id| self.exists(id)) {
                return None;
            }
            out.push(Expect::New(*id));
        }
        Some(out)
    }

    /// Stores the new jobs of an enqueue whose results matched `plan`.
    pub fn apply_enqueue(
        &mut self,
        specs: &[(JobSpec, Option<JobId>)],
        plan: &[Expect],
        ids: &[JobId],
        stamp: u64,
    ) {
        for (((spec, _), expect), &id) in specs.iter().zip(plan).zip(ids) {
            if !matches!(expect, Expect::New(_)) {
                continue;
            }
            let window = spec.unique.is_some_and(|(_, w)| w);
            let unique_key = spec.unique.map(|(k, window)| {
                self.holds.insert(KEYS[k], (id, window));
                KEYS[k]
            });
            self.index.insert(id, self.jobs.len());
            self.jobs.push(MJob {
                id,
                kind: KINDS[spec.kind],
                priority: spec.priority,
                max_attempts: if spec.max_attempts == 0 {
                    DEFAULT_MAX_ATTEMPTS
                } else {
                    spec.max_attempts
                },
                attempts: 0,
                state: JobState::Pending,
                due: !spec.later,
                stamp,
                unique_key,
                window,
                token: None,
                last_error: Some(None),
                output: None,
                cancel_requested: false,
                deleted: false,
            });
        }
    }

    /// The jobs a claim of up to `max` of `kinds` must hand out, best first.
    pub fn expected_claim(&self, kinds: &[&str], max: usize) -> Vec<JobId> {
        let mut due: Vec<&MJob> = self
            .jobs
            .iter()
            .filter(|j| j.state == JobState::Pending && j.due)
            .filter(|j| kinds.is_empty() || kinds.contains(&j.kind))
            .collect();
        due.sort_by_key(|j| (-j.priority, j.stamp, j.id));
        due.into_iter().take(max).map(|j| j.id).collect()
    }

    /// Records a claim of `id` under `token`.
    pub fn apply_claim(&mut self, id: JobId, token: ClaimToken) {
        if let Some(j) = self.job_mut(id) {
            j.state = JobState::Running;
            j.attempts += 1;
            j.token = Some(token);
        }
    }

    /// Whether `lease` still holds its job.
    pub fn holds(&self, lease: &Lease) -> bool {
        self.job(lease.id)
            .is_some_and(|j| j.state == JobState::Running && j.token == Some(lease.token))
    }

    /// What a heartbeat of `lease` must say.
    pub fn lease_status(&self, lease: &Lease) -> LeaseStatus {
        match self.job(lease.id) {
            Some(j) if self.holds(lease) && j.cancel_requested => LeaseStatus::CancelRequested,
            Some(_) if self.holds(lease) => LeaseStatus::Held,
            _ => LeaseStatus::Lost,
        }
    }

    /// Whether running job `id` has a cancel request (so ends `cancelled` but on success).
    fn cancel_requested(&self, id: JobId) -> bool {
        self.job(id).is_some_and(|j| j.cancel_requested)
    }

    /// Moves a job into a final state and frees a key held until it ends.
    fn finish(&mut self, id: JobId, to: JobState) {
        let Some(j) = self.job_mut(id) else { return };
        j.state = to;
        j.token = None;
        j.due = false;
        if let Some(key) = j.unique_key {
            if self.holds.get(key) == Some(&(id, false)) {
                self.holds.remove(key);
            }
        }
    }

    fn make_due(&mut self, id: JobId, stamp: u64, due: bool) {
        if let Some(j) = self.job_mut(id) {
            j.state = JobState::Pending;
            j.token = None;
            j.due = due;
            j.stamp = stamp;
        }
    }

    /// `ack` of a held lease.
    pub fn ack(&mut self, id: JobId) {
        self.complete(id, None);
    }

    /// `complete_batch` of a held lease, storing `output`.
    pub fn complete(&mut self, id: JobId, output: Option<serde_json::Value>) {
        if let Some(j) = self.job_mut(id) {
            j.output = output;
        }
        self.finish(id, JobState::Completed);
    }

    /// `nack` of a held lease (immediate retries).
    pub fn nack(&mut self, id: JobId, error: &str, stamp: u64) {
        let Some(j) = self.job_mut(id) else { return };
        j.last_error = Some(Some(error.to_owned()));
        if j.cancel_requested {
            self.finish(id, JobState::Cancelled);
        } else if j.attempts >= j.max_attempts {
            self.finish(id, JobState::Failed);
        } else {
            self.make_due(id, stamp, true);
        }
    }

    /// `discard` of a held lease.
    pub fn discard(&mut self, id: JobId, reason: &str) {
        if let Some(j) = self.job_mut(id) {
            j.last_error = Some(Some(reason.to_owned()));
        }
        if self.cancel_requested(id) {
            self.finish(id, JobState::Cancelled);
        } else {
            self.finish(id, JobState::Failed);
        }
    }

    /// `snooze` of a held lease: the attempt is given back.
    pub fn snooze(&mut self, id: JobId, later: bool, stamp: u64) {
        if self.cancel_requested(id) {
            // The attempt it used stays counted.
            self.finish(id, JobState::Cancelled);
            return;
        }
        if let Some(j) = self.job_mut(id) {
            j.attempts = j.attempts.saturating_sub(1);
        }
        self.make_due(id, stamp, !later);
    }

    /// The lease of running job `id` ran out and was reclaimed.
    pub fn expire(&mut self, id: JobId, stamp: u64) {
        let Some(j) = self.job_mut(id) else { return };
        if j.cancel_requested {
            self.finish(id, JobState::Cancelled);
        } else if j.attempts >= j.max_attempts {
            j.last_error = Some(Some(LEASE_EXPIRED.to_owned()));
            self.finish(id, JobState::Failed);
        } else {
            self.make_due(id, stamp, true);
        }
    }

    /// `cancel`: what it must return (and its effect).
    pub fn cancel(&mut self, id: JobId) -> CancelOutcome {
        match self.job_mut(id) {
            Some(j) if j.state == JobState::Pending => {
                self.finish(id, JobState::Cancelled);
                CancelOutcome::Cancelled
            }
            Some(j) if j.state == JobState::Running => {
                j.cancel_requested = true;
                CancelOutcome::Requested
            }
            _ => CancelOutcome::Unchanged,
        }
    }

    /// `replay`: whether it must succeed (and its effect when it does). A key held until
    /// the job ends is taken again when no other job holds it.
    pub fn replay(&mut self, id: JobId, stamp: u64) -> bool {
        let Some(j) = self.job_mut(id) else {
            return false;
        };
        if j.state != JobState::Failed {
            return false;
        }
        j.attempts = 0;
        // Whether a replay keeps the old error is not part of the contract.
        j.last_error = None;
        let (key, window) = (j.unique_key, j.window);
        self.make_due(id, stamp, true);
        if let (Some(key), false) = (key, window) {
            self.holds.entry(key).or_insert((id, false));
        }
        true
    }

    /// `run_now`: whether it must succeed (a pending job held back for later), and its
    /// effect: due now.
    pub fn run_now(&mut self, id: JobId, stamp: u64) -> bool {
        match self.job_mut(id) {
            Some(j) if j.state == JobState::Pending && !j.due => {
                j.due = true;
                j.stamp = stamp;
                true
            }
            _ => false,
        }
    }

    /// `delete`: whether it must succeed (a finished job), and its effect: the job is
    /// gone, and so is its hold on a unique key, a window included.
    pub fn delete(&mut self, id: JobId) -> bool {
        let Some(j) = self.job_mut(id) else {
            return false;
        };
        if !j.state.is_final() {
            return false;
        }
        j.deleted = true;
        if let Some(key) = j.unique_key {
            if self.holds.get(key).is_some_and(|&(holder, _)| holder == id) {
                self.holds.remove(key);
            }
        }
        true
    }

    /// Counts per state.
    pub fn stats(&self) -> Stats {
        let mut s = Stats::default();
        for j in self.stored() {
            *s.get_mut(j.state) += 1;
        }
        s
    }
}
