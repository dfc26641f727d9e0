//! An ordered set that is cheap where a queue's sets are used most: adding past the
//! largest key and taking the smallest.
//!
//! A `BTreeSet` searches every node it passes linearly, so adding past the largest key
//! (a new job, a new lease deadline) compares against every key on the right edge. Here
//! keys greater than all others go to a sorted `VecDeque` tail instead (O(1)), and the
//! rest to a `BTreeSet` whose keys are all smaller than the tail's. Taking the smallest
//! comes from the tree, or the tail once the tree is empty: O(1) for first-in first-out
//! use. A key added to or removed from the middle of the tail moves the keys before it
//! into the tree rather than shifting many; each key moves at most once, so every
//! operation stays O(log n) amortized.

use std::collections::{BTreeSet, VecDeque};

/// Most keys shifted to add or remove a key inside the tail; past it the smaller ones
/// move to the tree.
const SHIFT_MAX: usize = 32;

/// Keys at the front of the tail looked at one by one before a binary search.
const NEAR: usize = 8;

/// An ordered set of small `Copy` keys. See the module docs.
#[derive(Debug)]
pub(crate) struct SortedSet<K> {
    /// Every key here is smaller than every key of `tail`.
    tree: BTreeSet<K>,
    /// Sorted, strictly increasing.
    tail: VecDeque<K>,
}

impl<K> Default for SortedSet<K> {
    fn default() -> Self {
        SortedSet {
            tree: BTreeSet::new(),
            tail: VecDeque::new(),
        }
    }
}

impl<K: Ord + Copy> SortedSet<K> {
    /// Adds `key`; returns whether it was new.
    pub fn insert(&mut self, key: K) -> bool {
        match self.tail.back() {
            Some(&last) if key > last => {
                self.tail.push_back(key);
                true
            }
            Some(_) => {
                if self.tail.front().is_some_and(|&first| key < first) {
                    return self.tree.insert(key);
                }
                match self.tail.binary_search(&key) {
                    Ok(_) => false,
                    Err(i) if i.min(self.tail.len() - i) > SHIFT_MAX => {
                        // The keys before it are all greater than the tree's: they join
                        // it, and the key heads the tail.
                        self.tree.extend(self.tail.drain(..i));
                        self.tail.push_front(key);
                        true
                    }
                    Err(i) => {
                        self.tail.insert(i, key);
                        true
                    }
                }
            }
            None => {
                if self.tree.last().is_none_or(|&last| key > last) {
                    self.tail.push_back(key);
                    true
                } else {
                    self.tree.insert(key)
                }
            }
        }
    }

    /// Removes `key`; returns whether it was there.
    pub fn remove(&mut self, key: &K) -> bool {
        if self.tail.front().is_none_or(|first| key < first) {
            return self.tree.remove(key);
        }
        // Keys mostly leave in about the order they came: look near the front first.
        let near = self.tail.iter().take(NEAR).position(|k| k >= key);
        let i = match near {
            Some(i) if self.tail[i] == *key => i,
            Some(_) => return false,
            None => match self.tail.binary_search(key) {
                Ok(i) => i,
                Err(_) => return false,
            },
        };
        let shift = i.min(self.tail.len() - 1 - i);
        if shift > SHIFT_MAX {
            // The keys before it are all greater than the tree's: they join it.
            self.tree.extend(self.tail.drain(..i));
            self.tail.pop_front();
        } else {
            self.tail.remove(i);
        }
        true
    }

    /// The smallest key.
    pub fn first(&self) -> Option<&K> {
        self.tree.first().or_else(|| self.tail.front())
    }

    /// The smallest key at or above `bound`.
    pub fn first_from(&self, bound: &K) -> Option<&K> {
        // Every key of the tree is below every key of the tail.
        if let Some(key) = self.tree.range(bound..).next() {
            return Some(key);
        }
        self.tail.get(self.tail.partition_point(|k| k < bound))
    }

    /// Removes and returns the smallest key.
    pub fn pop_first(&mut self) -> Option<K> {
        self.tree.pop_first().or_else(|| self.tail.pop_front())
    }

    /// Every key, smallest first.
    pub fn iter(&self) -> impl Iterator<Item = &K> {
        self.tree.iter().chain(self.tail.iter())
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.tree.len() + self.tail.len()
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.tree.is_empty() && self.tail.is_empty()
    }

    /// Every key, largest first.
    #[cfg(test)]
    pub fn iter_rev(&self) -> impl Iterator<Item = &K> {
        self.tail.iter().rev().chain(self.tree.iter().rev())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks the set against a `BTreeSet` through a pseudo-random mix of operations
    /// that favours appends and taking the first, like a queue does.
    #[test]
    fn behaves_like_a_btreeset() {
        let mut set = SortedSet::default();
        let mut model = BTreeSet::new();
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut top = 0u64;
        for _ in 0..200_000 {
            let r = next();
            match r % 10 {
                0..=3 => {
                    top += 1 + r % 3;
                    assert_eq!(set.insert(top), model.insert(top));
                }
                4 => {
                    let k = (r >> 8) % (top + 1);
                    assert_eq!(set.insert(k), model.insert(k));
                }
                5 | 6 => assert_eq!(set.pop_first(), model.pop_first()),
                9 if r % 20 == 9 => {
                    let k = (r >> 8) % (top + 2);
                    assert_eq!(set.first_from(&k), model.range(k..).next());
                }
                7 | 8 => {
                    let k = (r >> 8) % (top + 1);
                    assert_eq!(set.remove(&k), model.remove(&k));
                }
                _ => assert_eq!(set.first(), model.first()),
            }
            assert_eq!(set.len(), model.len());
        }
        assert!(set.iter_rev().copied().eq(model.iter().rev().copied()));
        while let Some(k) = model.pop_first() {
            assert_eq!(set.pop_first(), Some(k));
        }
        assert!(set.is_empty());
    }

    #[test]
    fn removing_inside_a_long_tail_keeps_order() {
        let mut set = SortedSet::default();
        for k in 0..1_000u32 {
            assert!(set.insert(k));
        }
        assert!(set.remove(&500));
        assert!(!set.remove(&500));
        assert!(set.insert(500));
        assert!(set.insert(1_000));
        let all: Vec<u32> = set.iter_rev().copied().collect();
        assert!(all.iter().rev().copied().eq(0..=1_000));
    }
}
