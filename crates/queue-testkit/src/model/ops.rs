//! The operations of a model case, and how random ones are drawn.
//!
//! Operations name what they act on symbolically (the n-th lease handed out, the n-th job
//! id seen), resolved modulo what exists when they run. Any sub-sequence of a case is
//! therefore still a valid case, which is what lets a failure shrink by dropping steps.

use std::fmt;

use queue_core::JobState;

/// The kinds jobs are drawn from: few, so kind filters both hit and miss.
pub const KINDS: [&str; 3] = ["a", "b", "c"];

/// The kind filters a claim is drawn from; `"z"` is a kind no job has.
pub const FILTERS: [&[&str]; 5] = [&[], &["a"], &["b", "c"], &["a", "c"], &["z"]];

/// The unique keys jobs are drawn from: few, so keys collide often.
pub const KEYS: [&str; 3] = ["k0", "k1", "k2"];

/// A reference to a lease handed out or a job id seen, by position, resolved modulo how
/// many there are when the step runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ref {
    /// The n-th from the end (0: the latest).
    Last(usize),
    /// The n-th from the start.
    Nth(usize),
}

impl Ref {
    /// The position among `len`, if there is any.
    pub fn resolve(self, len: usize) -> Option<usize> {
        match (len, self) {
            (0, _) => None,
            (_, Ref::Last(k)) => Some(len - 1 - k % len),
            (_, Ref::Nth(n)) => Some(n % len),
        }
    }
}

impl fmt::Display for Ref {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ref::Last(k) => write!(f, "last-{k}"),
            Ref::Nth(n) => write!(f, "#{n}"),
        }
    }
}

/// Which id a new job asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdChoice {
    /// None: the backend makes one.
    Backend,
    /// A fresh id made by the test.
    Fresh,
    /// The id of a job seen, if that job is pending or running (an id in use: the
    /// enqueue must fail); a fresh one otherwise.
    Reuse(Ref),
}

/// A job to enqueue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobSpec {
    /// Index into [`KINDS`].
    pub kind: usize,
    /// 0–2.
    pub priority: i32,
    /// 0 (the default, 3) to 3.
    pub max_attempts: u32,
    /// Due in an hour (never during a case) instead of now.
    pub later: bool,
    /// Index into [`KEYS`], and whether the key is held for a window of an hour (never
    /// over during a case) rather than until the job ends.
    pub unique: Option<(usize, bool)>,
    /// Which id.
    pub id: IdChoice,
}

/// One step of a case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// `enqueue`.
    Enqueue(JobSpec),
    /// `enqueue_batch`.
    EnqueueBatch(Vec<JobSpec>),
    /// `dequeue` (max 1) or `dequeue_batch`, with a filter from [`FILTERS`].
    Dequeue {
        /// Index into [`FILTERS`].
        filter: usize,
        /// How many to claim at most.
        max: usize,
    },
    /// `ack` of the n-th lease handed out.
    Ack(Ref),
    /// `ack_batch` of these leases.
    AckBatch(Vec<Ref>),
    /// `complete_batch` of these leases, each with an output (made of the step and its
    /// position) or without.
    CompleteBatch(Vec<(Ref, bool)>),
    /// `nack` of the n-th lease.
    Nack(Ref),
    /// `discard` of the n-th lease.
    Discard(Ref),
    /// `snooze` of the n-th lease, for 0 or (later) an hour.
    Snooze {
        /// Which lease.
        lease: Ref,
        /// An hour instead of 0.
        later: bool,
    },
    /// `heartbeat` of these leases.
    Heartbeat(Vec<Ref>),
    /// `cancel` of the n-th job seen (`None`: an id never used).
    Cancel(Option<Ref>),
    /// `replay` of the n-th job seen (`None`: an id never used).
    Replay(Option<Ref>),
    /// `run_now` of the n-th job seen (`None`: an id never used).
    RunNow(Option<Ref>),
    /// `delete` of the n-th job seen (`None`: an id never used).
    Delete(Option<Ref>),
    /// `get_job` of the n-th job seen (`None`: a fresh id, never used).
    Get(Option<Ref>),
    /// `list_jobs` of one state (or every state), with a limit (0: the default).
    List(Option<JobState>, usize),
    /// `reclaim` with every lease still long: reclaims nothing.
    Reclaim,
    /// A claim with a short lease, waited out until the backend reclaimed it.
    ExpireClaim,
    /// `close`: later enqueues fail with `Closed`; everything else goes on.
    Close,
}

impl fmt::Display for JobSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", KINDS[self.kind])?;
        if self.priority != 0 {
            write!(f, " prio {}", self.priority)?;
        }
        if self.max_attempts != 0 {
            write!(f, " max {}", self.max_attempts)?;
        }
        if self.later {
            write!(f, " in 1h")?;
        }
        match self.unique {
            Some((k, false)) => write!(f, " unique {}", KEYS[k])?,
            Some((k, true)) => write!(f, " unique {} for 1h", KEYS[k])?,
            None => {}
        }
        match self.id {
            IdChoice::Backend => Ok(()),
            IdChoice::Fresh => write!(f, " id fresh"),
            IdChoice::Reuse(r) => write!(f, " id of job {r}"),
        }
    }
}

/// Random cases from a seed.
pub struct Gen {
    rng: fastrand::Rng,
    /// Whether [`Op::ExpireClaim`] may be drawn.
    expire: bool,
}

impl Gen {
    /// Draws from `seed`; `expire` allows the (slow) lease-expiry step.
    pub fn new(seed: u64, expire: bool) -> Self {
        Gen {
            rng: fastrand::Rng::with_seed(seed),
            expire,
        }
    }

    /// A case of `len` operations.
    pub fn case(&mut self, len: usize) -> Vec<Op> {
        (0..len).map(|_| self.op()).collect()
    }

    /// A reference biased to recent entries, yet reaching old ones (stale leases).
    fn index(&mut self) -> Ref {
        if self.rng.u8(..4) == 0 {
            Ref::Nth(self.rng.usize(..64))
        } else {
            Ref::Last(self.rng.usize(..3))
        }
    }

    fn job_ref(&mut self) -> Option<Ref> {
        (self.rng.u8(..8) != 0).then(|| self.index())
    }

    fn spec(&mut self) -> JobSpec {
        let unique = match self.rng.u8(..10) {
            0..=2 => Some((self.rng.usize(..KEYS.len()), false)),
            3 => Some((self.rng.usize(..KEYS.len()), true)),
            _ => None,
        };
        let id = match self.rng.u8(..12) {
            0 | 1 => IdChoice::Fresh,
            // An id in use together with a held key has no rule to check; keep apart.
            2 if unique.is_none() => IdChoice::Reuse(self.index()),
            _ => IdChoice::Backend,
        };
        JobSpec {
            kind: self.rng.usize(..KINDS.len()),
            priority: self.rng.i32(0..3),
            max_attempts: self.rng.u32(0..4),
            later: self.rng.u8(..8) == 0,
            unique,
            id,
        }
    }

    fn op(&mut self) -> Op {
        let roll = self.rng.u8(..100);
        match roll {
            0..=21 => Op::Enqueue(self.spec()),
            22..=28 => {
                let n = self.rng.usize(1..4);
                Op::EnqueueBatch((0..n).map(|_| self.spec()).collect())
            }
            29..=46 => Op::Dequeue {
                filter: self.rng.usize(..FILTERS.len()),
                max: if self.rng.bool() {
                    1
                } else {
                    self.rng.usize(2..4)
                },
            },
            47..=56 => Op::Ack(self.index()),
            57..=66 => Op::Nack(self.index()),
            67..=70 => Op::Discard(self.index()),
            71..=75 => Op::Snooze {
                lease: self.index(),
                later: self.rng.u8(..3) == 0,
            },
            76..=78 => {
                let n = self.rng.usize(1..4);
                Op::Heartbeat((0..n).map(|_| self.index()).collect())
            }
            79 => {
                let n = self.rng.usize(1..4);
                Op::AckBatch((0..n).map(|_| self.index()).collect())
            }
            80 => {
                let n = self.rng.usize(1..4);
                Op::CompleteBatch((0..n).map(|_| (self.index(), self.rng.bool())).collect())
            }
            81..=84 => Op::Cancel(self.job_ref()),
            85..=88 => Op::Replay(self.job_ref()),
            89..=90 => Op::RunNow(self.job_ref()),
            91..=92 => Op::Delete(self.job_ref()),
            93 => Op::Get(self.job_ref()),
            94..=95 => Op::List(
                // One past the end: any state.
                JobState::ALL
                    .get(self.rng.usize(..=JobState::ALL.len()))
                    .copied(),
                self.rng.usize(..4),
            ),
            96 => Op::Reclaim,
            97 if self.rng.u8(..3) == 0 => Op::Close,
            _ if self.expire && roll >= 98 => Op::ExpireClaim,
            _ => Op::Dequeue { filter: 0, max: 1 },
        }
    }
}
