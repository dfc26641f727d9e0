//! Concurrency and rate limits per kind (see `Queue::set_limit`), counted under the
//! queue's lock.
//!
//! A limited kind's jobs stay in the ready index, which the plain claim passes over; the
//! claim takes them here instead, in claim order, stepping over the jobs of keys at their
//! limit (so a busy key never holds up the others) and stopping at the first job when the
//! kind itself is at its limit. The counts move when a job of a limited kind starts or
//! stops running, so an unlimited queue pays nothing.

use std::collections::{HashMap, VecDeque};

use foldhash::fast::RandomState;
use queue_core::{Limit, Rate};

use crate::clock::Nanos;
use crate::ready::KindId;

/// A map keyed by concurrency key. The claim hashes a key for every job of a limited kind
/// it looks at, and every start and stop of one: a fast hash, seeded per process so keys
/// an outsider chooses cannot be made to collide at will.
type KeyMap<'k, V> = HashMap<&'k str, V, RandomState>;
/// The same, owning its keys.
type OwnedKeyMap<V> = HashMap<String, V, RandomState>;

/// The limit of one kind and what counts against it.
#[derive(Debug)]
pub(crate) struct Held {
    pub limit: Limit,
    /// Its running jobs.
    running: usize,
    /// Its running jobs per concurrency key (keys with none are dropped).
    key_running: OwnedKeyMap<usize>,
    /// Its recent starts (monotonic), oldest first, while a rate applies.
    starts: VecDeque<Nanos>,
    /// Recent starts per key, while a key rate applies.
    key_starts: OwnedKeyMap<VecDeque<Nanos>>,
}

/// Room left under a limit, for one claim to use up.
#[derive(Debug)]
pub(crate) struct Room<'a> {
    held: &'a Held,
    now: Nanos,
    kind: usize,
    /// Room left per key met so far; the keys are the jobs' own.
    keys: KeyMap<'a, usize>,
}

impl<'a> Room<'a> {
    /// Takes one start of a job with `key`, if the limit has room for it.
    pub fn take(&mut self, key: Option<&'a str>) -> bool {
        if self.kind == 0 {
            return false;
        }
        if let Some(key) = key.filter(|_| self.held.limit.by_key()) {
            let (held, now) = (self.held, self.now);
            let left = self
                .keys
                .entry(key)
                .or_insert_with(|| held.key_room(key, now));
            if *left == 0 {
                return false;
            }
            *left -= 1;
        }
        self.kind -= 1;
        true
    }

    /// Whether the kind itself has no room left: nothing more of it starts.
    pub fn is_spent(&self) -> bool {
        self.kind == 0
    }
}

fn rate_room(rate: Option<Rate>, starts: Option<&VecDeque<Nanos>>, now: Nanos) -> usize {
    let Some(rate) = rate else {
        return usize::MAX;
    };
    let since = now.saturating_sub(nanos_of(rate));
    let recent = starts.map_or(0, |s| s.iter().filter(|&&at| at > since).count());
    (rate.count as usize).saturating_sub(recent)
}

fn nanos_of(rate: Rate) -> Nanos {
    Nanos::try_from(rate.period.as_nanos()).unwrap_or(Nanos::MAX)
}

/// Forgets the starts of `rate`'s window that are over.
fn trim(starts: &mut VecDeque<Nanos>, rate: Rate, now: Nanos) {
    let since = now.saturating_sub(nanos_of(rate));
    while starts.front().is_some_and(|&at| at <= since) {
        starts.pop_front();
    }
}

impl Held {
    pub fn new(limit: Limit) -> Self {
        Held {
            limit,
            running: 0,
            key_running: OwnedKeyMap::default(),
            starts: VecDeque::new(),
            key_starts: OwnedKeyMap::default(),
        }
    }

    /// Running jobs of the kind.
    pub fn running(&self) -> usize {
        self.running
    }

    /// Sets the running counts from the keys of the kind's running jobs.
    pub fn recount<'a>(&mut self, running: impl Iterator<Item = Option<&'a str>>) {
        self.running = 0;
        self.key_running.clear();
        for key in running {
            self.running += 1;
            if let Some(key) = key.filter(|_| self.limit.by_key()) {
                *self.key_running.entry(key.to_owned()).or_default() += 1;
            }
        }
    }

    /// How many more may start now, by the kind-wide parts.
    fn kind_room(&self, now: Nanos) -> usize {
        let by_count = self
            .limit
            .concurrency
            .map_or(usize::MAX, |n| (n as usize).saturating_sub(self.running));
        by_count.min(rate_room(self.limit.rate, Some(&self.starts), now))
    }

    /// How many more of `key` may start now, by the per-key parts.
    fn key_room(&self, key: &str, now: Nanos) -> usize {
        let running = self.key_running.get(key).copied().unwrap_or(0);
        let by_count = self
            .limit
            .key_concurrency
            .map_or(usize::MAX, |n| (n as usize).saturating_sub(running));
        by_count.min(rate_room(
            self.limit.key_rate,
            self.key_starts.get(key),
            now,
        ))
    }

    /// The room a claim at `now` has, to spend job by job.
    pub fn room(&self, now: Nanos) -> Room<'_> {
        Room {
            held: self,
            now,
            kind: self.kind_room(now),
            keys: KeyMap::default(),
        }
    }

    /// Counts a job of `key` that started running at `now`.
    pub fn start(&mut self, key: Option<&str>, now: Nanos) {
        self.running += 1;
        if let Some(rate) = self.limit.rate {
            trim(&mut self.starts, rate, now);
            self.starts.push_back(now);
        }
        let Some(key) = key.filter(|_| self.limit.by_key()) else {
            return;
        };
        match self.key_running.get_mut(key) {
            Some(n) => *n += 1,
            None => {
                self.key_running.insert(key.to_owned(), 1);
            }
        }
        if let Some(rate) = self.limit.key_rate {
            let starts = self.key_starts.entry(key.to_owned()).or_default();
            trim(starts, rate, now);
            starts.push_back(now);
        }
    }

    /// Counts a job of `key` that stopped running.
    pub fn stop(&mut self, key: Option<&str>) {
        self.running = self.running.saturating_sub(1);
        let Some(key) = key.filter(|_| self.limit.by_key()) else {
            return;
        };
        // One lookup in the usual case of a key's last running job; the key is kept (not
        // copied) when others still run.
        if let Some((key, n)) = self.key_running.remove_entry(key) {
            if n > 1 {
                self.key_running.insert(key, n - 1);
            }
        }
    }

    /// Forgets starts whose windows are over (keys with none left go).
    pub fn trim(&mut self, now: Nanos) {
        if let Some(rate) = self.limit.rate {
            trim(&mut self.starts, rate, now);
        }
        if let Some(rate) = self.limit.key_rate {
            self.key_starts.retain(|_, starts| {
                trim(starts, rate, now);
                !starts.is_empty()
            });
        }
    }
}

/// Every limited kind's [`Held`], by kind number.
#[derive(Debug, Default)]
pub(crate) struct Limiter {
    kinds: HashMap<KindId, Held, RandomState>,
}

impl Limiter {
    /// Whether no kind is limited: the claim's fast path.
    pub fn is_empty(&self) -> bool {
        self.kinds.is_empty()
    }

    pub fn get(&self, kind: KindId) -> Option<&Held> {
        self.kinds.get(&kind)
    }

    /// Stores `held` for `kind`, replacing what it had.
    pub fn insert(&mut self, kind: KindId, held: Held) {
        self.kinds.insert(kind, held);
    }

    pub fn remove(&mut self, kind: KindId) -> Option<Held> {
        self.kinds.remove(&kind)
    }

    /// The limited kinds' numbers.
    pub fn kinds(&self) -> impl Iterator<Item = KindId> + '_ {
        self.kinds.keys().copied()
    }

    /// Counts a job that started running, if its kind is limited.
    pub fn start(&mut self, kind: KindId, key: Option<&str>, now: Nanos) {
        if let Some(held) = self.kinds.get_mut(&kind) {
            held.start(key, now);
        }
    }

    /// Counts a job that stopped running, if its kind is limited; returns whether it was.
    pub fn stop(&mut self, kind: KindId, key: Option<&str>) -> bool {
        match self.kinds.get_mut(&kind) {
            Some(held) => {
                held.stop(key);
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room_for(held: &Held, keys: &[&'static str]) -> usize {
        let mut room = held.room(0);
        keys.iter().filter(|k| room.take(Some(k))).count()
    }

    #[test]
    fn a_key_keeps_its_count_while_some_of_its_jobs_run() {
        let mut held = Held::new(Limit::per_key(2));
        held.start(Some("a"), 0);
        held.start(Some("a"), 0);
        held.start(Some("b"), 0);
        assert_eq!(room_for(&held, &["a", "a", "b", "b"]), 1);
        held.stop(Some("a"));
        assert_eq!(room_for(&held, &["a", "a", "a"]), 1);
        held.stop(Some("a"));
        assert_eq!(room_for(&held, &["a", "a", "a"]), 2);
        assert_eq!(held.running(), 1);
    }

    #[test]
    fn the_kind_room_bounds_every_key() {
        let mut held = Held::new(Limit::concurrency(3).with_per_key(1));
        held.start(None, 0);
        assert_eq!(room_for(&held, &["a", "a", "b", "c", "d"]), 2);
    }
}
