//! The operator's calls on the state: browsing (list, oldest due job) and changes made
//! by hand (run now, delete, purge).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Duration;

use queue_core::{Job, JobFilter, JobId, JobState};
use time::OffsetDateTime;

use super::{slot_of, State};
use crate::clock::{mono_after, Now};

impl State {
    /// Up to `limit` jobs matching `filter`, newest (highest id) first: one scan of every
    /// job, keeping the newest matches so far.
    pub fn list(&self, filter: &JobFilter, limit: usize) -> Vec<Job> {
        let kind = match &filter.kind {
            // A kind never seen has no jobs.
            Some(name) => match self.ready.lookup(name) {
                Some(k) => Some(k),
                None => return Vec::new(),
            },
            None => None,
        };
        let mut newest: BinaryHeap<Reverse<JobId>> = BinaryHeap::with_capacity(limit + 1);
        for slot in self.jobs.values() {
            let job = &slot.job;
            if filter.state.is_some_and(|s| s != job.state)
                || kind.is_some_and(|k| k != slot.kind)
                || filter.before.is_some_and(|before| job.id >= before)
            {
                continue;
            }
            if newest.len() < limit {
                newest.push(Reverse(job.id));
            } else if newest
                .peek()
                .is_some_and(|Reverse(oldest)| *oldest < job.id)
            {
                newest.pop();
                newest.push(Reverse(job.id));
            }
        }
        // Ascending `Reverse` order is descending id order.
        newest
            .into_sorted_vec()
            .into_iter()
            .filter_map(|Reverse(id)| self.jobs.get(&id).map(|s| s.job.clone()))
            .collect()
    }

    /// The earliest `scheduled_at` of the due pending jobs, paused kinds included (they
    /// stay in the ready index). Call after [`State::maintain`], which files the jobs
    /// that fell due.
    pub fn oldest_due(&self) -> Option<OffsetDateTime> {
        let (_, _, id) = self.ready.earliest()?;
        self.jobs.get(&id).map(|s| s.job.scheduled_at)
    }

    /// Makes a pending job that waits for its time due now. `false` for any other job,
    /// a due one included.
    pub fn run_now(&mut self, id: JobId, now: impl Into<Now>) -> bool {
        let now = now.into();
        let Some(slot) = self.jobs.get_mut(&id) else {
            return false;
        };
        // A pending job waits in the delayed timeline exactly while it is not due.
        if slot.job.state != JobState::Pending || !self.delayed.remove(slot.due, id) {
            return false;
        }
        slot.job.scheduled_at = now.wall;
        slot.due = now.mono;
        self.ready.insert(slot.kind, slot.ready_key());
        self.events.ready = true;
        true
    }

    /// Deletes a job in a final state, with the unique key it still holds (a window that
    /// outlived the job included). `false` for pending, running and unknown jobs.
    pub fn delete(&mut self, id: JobId) -> bool {
        if !self.jobs.get(&id).is_some_and(|s| s.job.state.is_final()) {
            return false;
        }
        let Some(slot) = self.jobs.remove(&id) else {
            return false;
        };
        let state = slot.job.state;
        if let Some(seq) = slot.retained {
            self.ring_mut(state).remove(seq);
        }
        if let Some(key) = &slot.job.unique_key {
            self.unique.release_any(key, id);
        }
        self.by_state[slot_of(state)] -= 1;
        true
    }

    /// Deletes up to `limit` jobs in the final `state` that finished at least `older_than`
    /// before `now`, oldest first; returns how many. The retention ring holds finished
    /// jobs in the order they finished, so this reads from its oldest end and stops at
    /// the first job too young.
    pub fn purge(
        &mut self,
        state: JobState,
        older_than: Duration,
        limit: usize,
        now: impl Into<Now>,
    ) -> u64 {
        let now = now.into();
        let mut picked = Vec::new();
        for id in self.ring(state).oldest_first() {
            if picked.len() >= limit {
                break;
            }
            let Some(slot) = self.jobs.get(&id) else {
                continue;
            };
            let Some(finished) = slot.finished else {
                continue;
            };
            if mono_after(finished, older_than) > now.mono {
                break;
            }
            // Completed and cancelled jobs share a ring.
            if slot.job.state == state {
                picked.push(id);
            }
        }
        picked.into_iter().filter(|&id| self.delete(id)).count() as u64
    }
}
