//! The due pending jobs, in claim order, per kind.
//!
//! Each kind has an ordered set of [`ReadyKey`]s (see [`crate::sorted`]), and with more
//! than a few kinds a second ordered set holds the best key of every non-empty kind (its
//! "head"; with few kinds the heads are compared directly). So:
//!
//! - insert and remove are O(log n) (plus O(log k) when a kind's head changes),
//! - claiming from any kind is O(log k + log n): the best head, then its kind's set,
//! - claiming from `f` given kinds is O(f · log n): the best of their `f` first keys.
//!
//! Kinds are interned to small numbers ([`KindId`]) on first insert and never forgotten;
//! a queue sees few distinct kinds, and a lookup of an unknown kind interns nothing.
//!
//! A paused kind keeps its set but is passed over by both claims: the any-kind claim
//! steps over at most one head per paused kind, never over a paused kind's jobs. So is a
//! limited kind, whose jobs the claim takes through [`crate::limiter`] instead.

use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap};

use queue_core::JobId;

use crate::clock::Nanos;
use crate::sorted::SortedSet;

/// Claim order: highest priority, then earliest `scheduled_at`, then lowest id. The
/// smallest key is claimed first.
pub(crate) type ReadyKey = (Reverse<i32>, Nanos, JobId);

/// Up to this many kinds, names are looked up by comparing rather than hashing.
const FEW_KINDS: usize = 8;

/// A kind's interned number.
pub(crate) type KindId = usize;

/// Due pending jobs by kind. See the module docs.
#[derive(Debug, Default)]
pub(crate) struct ReadyIndex {
    names: HashMap<String, KindId>,
    /// Names by number.
    by_id: Vec<String>,
    sets: Vec<SortedSet<ReadyKey>>,
    /// Whether each kind is paused, by number.
    paused: Vec<bool>,
    /// Whether each kind is limited (claimed through the limiter), by number.
    limited: Vec<bool>,
    /// The first key of every non-empty set, with the set's kind; kept only with more
    /// than [`FEW_KINDS`] kinds (fewer heads are compared directly, which is cheaper
    /// than keeping this up to date on every claim).
    heads: BTreeSet<(ReadyKey, KindId)>,
}

impl ReadyIndex {
    /// The number of `kind`, made on first use.
    pub fn intern(&mut self, kind: &str) -> KindId {
        if let Some(id) = self.lookup(kind) {
            return id;
        }
        let id = self.sets.len();
        self.sets.push(SortedSet::default());
        self.paused.push(false);
        self.limited.push(false);
        self.names.insert(kind.to_owned(), id);
        self.by_id.push(kind.to_owned());
        if self.sets.len() == FEW_KINDS + 1 {
            // From now on the heads are kept.
            for (k, set) in self.sets.iter().enumerate() {
                if let Some(&first) = set.first() {
                    self.heads.insert((first, k));
                }
            }
        }
        id
    }

    /// Whether `heads` is kept.
    fn keeps_heads(&self) -> bool {
        self.sets.len() > FEW_KINDS
    }

    /// The number of `kind`, if it was ever interned.
    pub fn lookup(&self, kind: &str) -> Option<KindId> {
        if self.by_id.len() <= FEW_KINDS {
            // Comparing a few short names is cheaper than hashing one.
            return self.by_id.iter().position(|name| name == kind);
        }
        self.names.get(kind).copied()
    }

    /// Pauses or resumes `kind`; returns whether that changed anything.
    pub fn set_paused(&mut self, kind: &str, paused: bool) -> bool {
        let id = self.intern(kind);
        match self.paused.get_mut(id) {
            Some(p) if *p != paused => {
                *p = paused;
                true
            }
            _ => false,
        }
    }

    /// The paused kinds, sorted.
    pub fn paused(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .by_id
            .iter()
            .zip(&self.paused)
            .filter(|(_, p)| **p)
            .map(|(name, _)| name.clone())
            .collect();
        names.sort();
        names
    }

    pub fn is_paused(&self, kind: KindId) -> bool {
        self.paused.get(kind).copied().unwrap_or(false)
    }

    /// Marks `kind` as limited or not: the plain claims pass over a limited kind.
    pub fn set_limited(&mut self, kind: KindId, limited: bool) {
        if let Some(l) = self.limited.get_mut(kind) {
            *l = limited;
        }
    }

    /// Whether the plain claims pass over `kind`.
    fn is_skipped(&self, kind: KindId) -> bool {
        self.is_paused(kind) || self.limited.get(kind).copied().unwrap_or(false)
    }

    /// The name of a kind's number.
    pub fn name(&self, kind: KindId) -> &str {
        self.by_id.get(kind).map_or("", String::as_str)
    }

    /// The due jobs of `kind`, in claim order.
    pub fn iter_kind(&self, kind: KindId) -> impl Iterator<Item = &ReadyKey> {
        self.sets.get(kind).into_iter().flat_map(SortedSet::iter)
    }

    /// Files a due job of `kind`.
    pub fn insert(&mut self, kind: KindId, key: ReadyKey) {
        let keeps_heads = self.keeps_heads();
        let Some(set) = self.sets.get_mut(kind) else {
            return;
        };
        let old_head = set.first().copied();
        if !set.insert(key) {
            return;
        }
        if keeps_heads && old_head.is_none_or(|head| key < head) {
            if let Some(head) = old_head {
                self.heads.remove(&(head, kind));
            }
            self.heads.insert((key, kind));
        }
    }

    /// Takes a job out; returns whether it was there.
    pub fn remove(&mut self, kind: KindId, key: &ReadyKey) -> bool {
        let keeps_heads = self.keeps_heads();
        let Some(set) = self.sets.get_mut(kind) else {
            return false;
        };
        let was_head = keeps_heads && set.first() == Some(key);
        if !set.remove(key) {
            return false;
        }
        if was_head {
            self.heads.remove(&(*key, kind));
            if let Some(&next) = set.first() {
                self.heads.insert((next, kind));
            }
        }
        true
    }

    /// The best job of any kind neither paused nor limited, and its kind.
    pub fn first_any(&self) -> Option<(ReadyKey, KindId)> {
        if self.keeps_heads() {
            self.heads
                .iter()
                .find(|(_, k)| !self.is_skipped(*k))
                .copied()
        } else {
            self.sets
                .iter()
                .enumerate()
                .filter(|(k, _)| !self.is_skipped(*k))
                .filter_map(|(k, set)| Some((*set.first()?, k)))
                .min()
        }
    }

    /// The best job among `kinds`, passing over paused and limited ones, and its kind.
    pub fn first_among(&self, kinds: &[KindId]) -> Option<(ReadyKey, KindId)> {
        kinds
            .iter()
            .filter(|&&k| !self.is_skipped(k))
            .filter_map(|&k| Some((*self.sets.get(k)?.first()?, k)))
            .min()
    }

    /// Removes and returns the best job of any kind neither paused nor limited.
    #[cfg(test)]
    pub fn pop_any(&mut self) -> Option<ReadyKey> {
        let (key, kind) = self.first_any()?;
        self.remove(kind, &key);
        Some(key)
    }

    /// Removes and returns the best job among `kinds`, passing over paused and limited ones.
    #[cfg(test)]
    pub fn pop_among(&mut self, kinds: &[KindId]) -> Option<ReadyKey> {
        let (key, kind) = self.first_among(kinds)?;
        self.remove(kind, &key);
        Some(key)
    }

    /// The due job with the earliest `scheduled_at` of any kind, paused ones included
    /// (ties: the best in claim order). Each kind's set is in priority order, so the
    /// earliest of a priority is the first key of that priority: one lookup per kind
    /// and priority present, not a scan of the jobs.
    pub fn earliest(&self) -> Option<ReadyKey> {
        let mut best: Option<ReadyKey> = None;
        for set in &self.sets {
            let mut next = set.first();
            while let Some(&key) = next {
                if best.is_none_or(|b| (key.1, key) < (b.1, b)) {
                    best = Some(key);
                }
                let Reverse(priority) = key.0;
                let Some(lower) = priority.checked_sub(1) else {
                    break;
                };
                next = set.first_from(&(Reverse(lower), Nanos::MIN, JobId::from_bytes([0; 16])));
            }
        }
        best
    }

    /// Due jobs of every kind.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.sets.iter().map(SortedSet::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(priority: i32, at: Nanos) -> ReadyKey {
        (Reverse(priority), at, JobId::new())
    }

    #[test]
    fn any_kind_takes_the_best_head() {
        let mut r = ReadyIndex::default();
        let (a, b) = (r.intern("a"), r.intern("b"));
        let low = key(0, 1);
        let high_late = key(5, 9);
        let high_early = key(5, 3);
        r.insert(a, low);
        r.insert(b, high_late);
        r.insert(a, high_early);
        assert_eq!(r.pop_any(), Some(high_early));
        assert_eq!(r.pop_any(), Some(high_late));
        assert_eq!(r.pop_any(), Some(low));
        assert_eq!(r.pop_any(), None);
        assert!(r.heads.is_empty());
    }

    #[test]
    fn a_filter_takes_the_best_of_its_kinds() {
        let mut r = ReadyIndex::default();
        let (a, b, c) = (r.intern("a"), r.intern("b"), r.intern("c"));
        let ka = key(1, 1);
        let kb = key(2, 1);
        let kc = key(9, 1);
        r.insert(a, ka);
        r.insert(b, kb);
        r.insert(c, kc);
        assert_eq!(r.pop_among(&[a, b]), Some(kb));
        assert_eq!(r.pop_among(&[a, b]), Some(ka));
        assert_eq!(r.pop_among(&[a, b]), None);
        assert_eq!(r.pop_any(), Some(kc));
    }

    #[test]
    fn removing_a_head_promotes_the_next() {
        let mut r = ReadyIndex::default();
        let a = r.intern("a");
        let first = key(3, 1);
        let second = key(2, 1);
        r.insert(a, second);
        r.insert(a, first);
        assert!(r.remove(a, &first));
        assert!(!r.remove(a, &first), "already gone");
        assert_eq!(r.len(), 1);
        assert_eq!(r.pop_any(), Some(second));
    }

    /// With many kinds the heads are kept in an index, from the kind that crosses the
    /// threshold on, including the jobs filed before.
    #[test]
    fn many_kinds_take_the_best_head() {
        let mut r = ReadyIndex::default();
        let early: Vec<KindId> = (0..FEW_KINDS).map(|i| r.intern(&format!("k{i}"))).collect();
        let mut keys: Vec<ReadyKey> = Vec::new();
        for (i, &k) in early.iter().enumerate() {
            let key = key(i as i32, 5);
            r.insert(k, key);
            keys.push(key);
        }
        assert!(r.heads.is_empty());
        let late = r.intern("late");
        assert_eq!(r.heads.len(), FEW_KINDS, "the heads of the earlier kinds");
        let best = key(100, 1);
        r.insert(late, best);
        keys.push(best);
        let worst = key(-1, 9);
        r.insert(early[0], worst);
        keys.push(worst);
        keys.sort();
        let popped: Vec<ReadyKey> = std::iter::from_fn(|| r.pop_any()).collect();
        assert_eq!(popped, keys);
        assert!(r.heads.is_empty());
    }

    /// Paused kinds are passed over by both claims, with few kinds and with many, and
    /// come back when resumed.
    #[test]
    fn paused_kinds_are_passed_over() {
        for extra in [0, FEW_KINDS] {
            let mut r = ReadyIndex::default();
            let (a, b) = (r.intern("a"), r.intern("b"));
            for i in 0..extra {
                r.intern(&format!("other{i}"));
            }
            let best = key(9, 1);
            let next = key(1, 1);
            r.insert(a, best);
            r.insert(b, next);
            assert!(r.set_paused("a", true));
            assert!(!r.set_paused("a", true), "already paused");
            assert_eq!(r.paused(), ["a"]);
            assert_eq!(r.pop_among(&[a]), None);
            assert_eq!(r.pop_any(), Some(next));
            assert_eq!(r.pop_any(), None);
            assert!(r.set_paused("a", false));
            assert!(r.paused().is_empty());
            assert_eq!(r.pop_any(), Some(best));
        }
    }

    #[test]
    fn earliest_walks_every_priority_of_every_kind() {
        let mut r = ReadyIndex::default();
        assert_eq!(r.earliest(), None);
        let (a, b) = (r.intern("a"), r.intern("b"));
        r.insert(a, key(9, 50));
        r.insert(a, key(9, 60));
        r.insert(a, key(i32::MIN, 40));
        r.insert(b, key(3, 70));
        let oldest = key(1, 20);
        r.insert(b, oldest);
        r.insert(b, key(1, 30));
        assert!(r.set_paused("b", true));
        assert_eq!(r.earliest(), Some(oldest), "paused kinds count");
        assert!(r.remove(b, &oldest));
        assert_eq!(r.earliest().map(|k| k.1), Some(30));
    }

    #[test]
    fn lookup_does_not_intern() {
        let mut r = ReadyIndex::default();
        assert_eq!(r.lookup("x"), None);
        let x = r.intern("x");
        assert_eq!(r.intern("x"), x);
        assert_eq!(r.lookup("x"), Some(x));
    }
}
