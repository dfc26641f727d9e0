//! Bounded retention of finished jobs: the oldest to finish is forgotten first.

use std::collections::BTreeMap;

use queue_core::JobId;

/// Finished jobs in the order they finished, at most `keep` of them.
///
/// Each admitted job gets a sequence number (kept by the caller, so a replayed job can
/// leave early in O(log n)); eviction pops the lowest. Every operation is O(log n).
#[derive(Debug)]
pub(crate) struct Retention {
    keep: usize,
    order: BTreeMap<u64, JobId>,
    next: u64,
}

impl Retention {
    /// Keeps at most `keep` jobs (0: none).
    pub fn new(keep: usize) -> Self {
        Retention {
            keep,
            order: BTreeMap::new(),
            next: 0,
        }
    }

    /// Files a job that just finished; returns its sequence number.
    pub fn admit(&mut self, id: JobId) -> u64 {
        let seq = self.next;
        self.next += 1;
        self.order.insert(seq, id);
        seq
    }

    /// The oldest job beyond the limit, removed from the ring; call until `None`.
    pub fn evict(&mut self) -> Option<JobId> {
        if self.order.len() > self.keep {
            self.order.pop_first().map(|(_, id)| id)
        } else {
            None
        }
    }

    /// Takes out the job admitted as `seq` (it left its final state).
    pub fn remove(&mut self, seq: u64) {
        self.order.remove(&seq);
    }

    /// The retained jobs, the first to finish first.
    pub fn oldest_first(&self) -> impl Iterator<Item = JobId> + '_ {
        self.order.values().copied()
    }

    /// How many jobs are retained.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.order.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_the_oldest_beyond_the_limit() {
        let mut r = Retention::new(2);
        let ids: Vec<JobId> = (0..4).map(|_| JobId::new()).collect();
        let seqs: Vec<u64> = ids.iter().map(|&id| r.admit(id)).collect();
        assert_eq!(r.evict(), Some(ids[0]));
        assert_eq!(r.evict(), Some(ids[1]));
        assert_eq!(r.evict(), None);
        r.remove(seqs[2]);
        assert_eq!(r.len(), 1);
        r.admit(ids[2]);
        assert_eq!(r.evict(), None, "a re-admitted job is the newest");
        r.admit(ids[0]);
        assert_eq!(r.evict(), Some(ids[3]));
    }

    #[test]
    fn zero_keeps_nothing() {
        let mut r = Retention::new(0);
        let id = JobId::new();
        r.admit(id);
        assert_eq!(r.evict(), Some(id));
        assert_eq!(r.len(), 0);
    }
}
