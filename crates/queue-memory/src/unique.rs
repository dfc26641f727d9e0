//! Who holds each unique key, and until when.
//!
//! A key is held by one job id either until that job ends (no window; the queue releases
//! it when the job becomes final) or until an instant (a window from the job's enqueue,
//! even if the job ended sooner). Windowed holds are also filed by their end, so lapsed
//! ones are forgotten by maintenance instead of piling up.

use std::collections::{BTreeSet, HashMap};

use queue_core::JobId;

use crate::clock::Nanos;

#[derive(Debug)]
struct Hold {
    id: JobId,
    /// `None`: until the job ends.
    until: Option<Nanos>,
}

/// Held unique keys. Every operation is O(1) hashing plus O(log w) for `w` windowed holds.
#[derive(Debug, Default)]
pub(crate) struct UniqueIndex {
    holds: HashMap<String, Hold>,
    windows: BTreeSet<(Nanos, String)>,
}

impl UniqueIndex {
    /// The job holding `key` at `now`, if any.
    pub fn holder(&self, key: &str, now: Nanos) -> Option<JobId> {
        let hold = self.holds.get(key)?;
        match hold.until {
            Some(until) if until <= now => None,
            _ => Some(hold.id),
        }
    }

    /// Gives `key` to `id` until `until` (`None`: until released), replacing a lapsed hold.
    pub fn hold(&mut self, key: String, id: JobId, until: Option<Nanos>) {
        let mut key = key;
        if let Some(Hold {
            until: Some(old), ..
        }) = self.holds.remove(&key)
        {
            let entry = (old, key);
            self.windows.remove(&entry);
            key = entry.1;
        }
        if let Some(until) = until {
            self.windows.insert((until, key.clone()));
        }
        self.holds.insert(key, Hold { id, until });
    }

    /// Frees `key` if `id` holds it until its end (a windowed hold stays for its window).
    pub fn release(&mut self, key: &str, id: JobId) {
        if self
            .holds
            .get(key)
            .is_some_and(|h| h.id == id && h.until.is_none())
        {
            self.holds.remove(key);
        }
    }

    /// Frees `key` if `id` holds it, a window included: the job is gone for good.
    pub fn release_any(&mut self, key: &str, id: JobId) {
        if self.holds.get(key).is_some_and(|h| h.id == id) {
            if let Some(Hold {
                until: Some(until), ..
            }) = self.holds.remove(key)
            {
                self.windows.remove(&(until, key.to_owned()));
            }
        }
    }

    /// Forgets windowed holds that lapsed at or before `now`.
    pub fn expire(&mut self, now: Nanos) {
        while let Some((at, _)) = self.windows.first() {
            if *at > now {
                break;
            }
            let Some((at, key)) = self.windows.pop_first() else {
                break;
            };
            if self.holds.get(&key).is_some_and(|h| h.until == Some(at)) {
                self.holds.remove(&key);
            }
        }
    }

    /// Keys currently on record (lapsed windows included until `expire`).
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.holds.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hold_without_window_lasts_until_released() {
        let mut u = UniqueIndex::default();
        let (a, b) = (JobId::new(), JobId::new());
        u.hold("k".into(), a, None);
        assert_eq!(u.holder("k", i128::MAX), Some(a));
        u.release("k", b);
        assert_eq!(u.holder("k", 0), Some(a), "only the holder releases");
        u.release("k", a);
        assert_eq!(u.holder("k", 0), None);
    }

    #[test]
    fn a_window_lapses_and_is_forgotten() {
        let mut u = UniqueIndex::default();
        let a = JobId::new();
        u.hold("w".into(), a, Some(100));
        u.release("w", a);
        assert_eq!(u.holder("w", 99), Some(a), "a window outlives the job");
        assert_eq!(u.holder("w", 100), None);
        u.expire(99);
        assert_eq!(u.len(), 1);
        u.expire(100);
        assert_eq!(u.len(), 0);
        assert!(u.windows.is_empty());
    }

    #[test]
    fn release_any_frees_a_window_too() {
        let mut u = UniqueIndex::default();
        let (a, b) = (JobId::new(), JobId::new());
        u.hold("w".into(), a, Some(100));
        u.release_any("w", b);
        assert_eq!(u.holder("w", 0), Some(a), "only the holder releases");
        u.release_any("w", a);
        assert_eq!(u.holder("w", 0), None);
        assert!(u.windows.is_empty());
        u.hold("k".into(), a, None);
        u.release_any("k", a);
        assert_eq!(u.len(), 0);
    }

    #[test]
    fn re_holding_a_lapsed_key_keeps_one_window_entry() {
        let mut u = UniqueIndex::default();
        let (a, b) = (JobId::new(), JobId::new());
        u.hold("w".into(), a, Some(100));
        u.hold("w".into(), b, Some(300));
        assert_eq!(u.windows.len(), 1);
        u.expire(200);
        assert_eq!(
            u.holder("w", 200),
            Some(b),
            "the old window must not free the new hold"
        );
        u.hold("w".into(), a, None);
        assert!(u.windows.is_empty());
        u.expire(i128::MAX);
        assert_eq!(u.holder("w", i128::MAX), Some(a));
    }
}
