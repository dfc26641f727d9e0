//! Jobs waiting for an instant: delayed jobs until they are due, running jobs until their
//! lease runs out.

use queue_core::JobId;

use crate::clock::Nanos;
use crate::sorted::SortedSet;

/// Job ids ordered by an instant. Every operation is O(log n) (amortized; O(1) for
/// instants that only grow, like lease deadlines); entries are removed
/// exactly, so nothing stale is ever popped.
#[derive(Debug, Default)]
pub(crate) struct Timeline {
    entries: SortedSet<(Nanos, JobId)>,
}

impl Timeline {
    /// Adds `id` at `at`.
    pub fn insert(&mut self, at: Nanos, id: JobId) {
        self.entries.insert((at, id));
    }

    /// Removes `id` at `at`; returns whether it was there.
    pub fn remove(&mut self, at: Nanos, id: JobId) -> bool {
        self.entries.remove(&(at, id))
    }

    /// Removes and returns the earliest entry whose instant is at or before `now`.
    pub fn pop_due(&mut self, now: Nanos) -> Option<(Nanos, JobId)> {
        match self.entries.first() {
            Some(&(at, _)) if at <= now => self.entries.pop_first(),
            _ => None,
        }
    }

    /// The earliest instant, if any.
    pub fn next(&self) -> Option<Nanos> {
        self.entries.first().map(|&(at, _)| at)
    }

    /// How many entries there are.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_only_what_is_due_in_order() {
        let mut t = Timeline::default();
        let (a, b, c) = (JobId::new(), JobId::new(), JobId::new());
        t.insert(30, c);
        t.insert(10, a);
        t.insert(20, b);
        assert_eq!(t.next(), Some(10));
        assert_eq!(t.pop_due(5), None);
        assert_eq!(t.pop_due(20), Some((10, a)));
        assert!(t.remove(20, b));
        assert!(!t.remove(20, b));
        assert_eq!(t.pop_due(25), None);
        assert_eq!(t.pop_due(30), Some((30, c)));
        assert_eq!(t.next(), None);
        assert_eq!(t.len(), 0);
    }
}
