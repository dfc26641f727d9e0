//! State shared by the worker's tasks.

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, Notify};

use super::cancel::{Cancel, CancelReason};
use super::data::DataMap;
use super::drain::DrainedJob;
use super::extract::DynHandler;
use super::hooks::{JobFinished, JobStarted, RunOutcome, WorkerHook};
use super::settle::{Outcome, Settle};
use crate::{Job, JobId, Lease, Queue};

pub(crate) struct Shared {
    pub queue: Arc<dyn Queue>,
    /// `queue.name()`, for hooks.
    pub queue_name: Arc<str>,
    /// Told of every job started and every outcome recorded.
    pub hooks: Vec<Arc<dyn WorkerHook>>,
    /// Where and how often a started worker samples the gauges.
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    pub gauges: Option<(Arc<dyn crate::Browsable>, Duration)>,
    /// Handled kinds, sorted; a kind's position is its index everywhere below.
    pub kinds: Vec<Arc<str>>,
    pub kind_index: HashMap<String, usize>,
    pub handlers: Vec<DynHandler>,
    /// Values handlers take as `Data<T>`.
    pub data: Arc<DataMap>,
    pub limits: Vec<Option<usize>>,
    pub concurrency: usize,
    pub batch_size: usize,
    /// Jobs claimed ahead of free slots.
    pub prefetch: usize,
    /// Tasks a claimed batch is spread over: the runtime's worker threads.
    pub lanes: usize,
    pub handler_timeout: Option<Duration>,
    /// How long a handler may run on once its cancellation token fired.
    pub cancel_grace: Duration,
    pub poll_interval: Duration,
    pub state: Mutex<RunState>,
    /// Wakes the claim loop: room for a claim, a kind paused or resumed, or shutdown.
    pub wake: Notify,
    /// Wakes shutdown's wait for running jobs.
    pub changed: Notify,
    pub stopping: AtomicBool,
    pub counters: Counters,
    /// Handlers stopped by shutdown (or drop) before they finished; their jobs were
    /// returned to the queue.
    pub stopped: AtomicU64,
    pub settle_tx: Mutex<Option<mpsc::UnboundedSender<Vec<Settle>>>>,
    /// Each job's outcome as recorded, when running to idle.
    pub log: Option<Mutex<Vec<DrainedJob>>>,
}

/// Where a held job is.
pub(crate) enum Run {
    /// Claimed ahead, in `RunState::waiting` until a slot frees.
    Waiting,
    /// Its handler runs; `Held::cancel` stops it at its next `.await`.
    Started,
}

/// A job this worker holds the lease of.
pub(crate) struct Held {
    pub lease: Lease,
    /// Until when, by our clock, the lease surely still holds (see `heartbeat::trusted`).
    /// Past it, the server may hand the job to another claimant.
    pub held_until: tokio::time::Instant,
    pub kind: usize,
    /// Attempts used, this claim included.
    pub attempts: u32,
    pub run: Run,
    /// When its handler started, once it has.
    pub started: Option<Instant>,
    /// The token its handler's context holds.
    pub cancel: Cancel,
}

pub(crate) struct RunState {
    /// Every job whose lease we hold, waiting or started. Whoever removes an entry owns
    /// the job's settlement.
    pub held: HashMap<JobId, Held, BuildHasherDefault<IdHasher>>,
    /// Claimed jobs waiting for a slot, in claim order. An entry whose job left `held`
    /// (its lease was lost meanwhile) is skipped.
    pub waiting: VecDeque<Job>,
    /// Entries of `held` that are started.
    pub started: usize,
    /// Entries of `held` per kind index.
    pub per_kind: Vec<usize>,
    pub paused: HashSet<String>,
}

/// A job taken out of the waiting line to start, its handler registered as running.
pub(crate) struct Startable {
    pub job: Job,
    pub lease: Lease,
    pub kind: usize,
    pub cancel: Cancel,
}

impl RunState {
    /// Jobs waiting for a slot.
    pub fn waiting_count(&self) -> usize {
        self.held.len() - self.started
    }

    /// Removes the entry of `lease` (that very claim); returns it when it was there.
    pub fn remove(&mut self, lease: &Lease) -> Option<Held> {
        let h = self.held.remove(&lease.id)?;
        if h.lease.token != lease.token {
            // A newer claim of the same job: not ours to take.
            self.held.insert(lease.id, h);
            return None;
        }
        if matches!(h.run, Run::Started) {
            self.started -= 1;
        }
        if let Some(n) = self.per_kind.get_mut(h.kind) {
            *n = n.saturating_sub(1);
        }
        Some(h)
    }

    /// Takes waiting jobs for the free slots and marks them started. Jobs of a paused
    /// kind stay waiting (the claim loop hands them back).
    fn take_startable(&mut self, shared: &Shared) -> Vec<Startable> {
        let mut out = Vec::new();
        let mut kept = Vec::new();
        while self.started < shared.concurrency {
            let Some(job) = self.waiting.pop_front() else {
                break;
            };
            let Some(h) = self.held.get_mut(&job.id) else {
                continue;
            };
            let lease = h.lease;
            if job.lease.map(|l| l.token) != Some(lease.token) || !matches!(h.run, Run::Waiting) {
                continue;
            }
            if !self.paused.is_empty() && self.paused.contains(&*shared.kinds[h.kind]) {
                kept.push(job);
                continue;
            }
            h.run = Run::Started;
            h.started = Some(Instant::now());
            self.started += 1;
            out.push(Startable {
                kind: h.kind,
                job,
                lease,
                cancel: h.cancel.clone(),
            });
        }
        for job in kept.into_iter().rev() {
            self.waiting.push_front(job);
        }
        out
    }

    /// Takes waiting jobs out of `held` (only those of paused kinds, or all) to be handed
    /// back untouched.
    pub fn release_waiting(&mut self, only_paused: bool, kinds: &[Arc<str>]) -> Vec<Job> {
        let mut out = Vec::new();
        let mut kept = VecDeque::new();
        for job in std::mem::take(&mut self.waiting) {
            let Some(h) = self.held.get(&job.id) else {
                continue;
            };
            if only_paused && !self.paused.contains(&*kinds[h.kind]) {
                kept.push_back(job);
                continue;
            }
            if let Some(lease) = job.lease {
                if self.remove(&lease).is_some() {
                    out.push(job);
                }
            }
        }
        self.waiting = kept;
        out
    }
}

impl Shared {
    pub fn lock(&self) -> MutexGuard<'_, RunState> {
        // A panic while holding this lock cannot leave it inconsistent in a way that matters
        // more than stopping the worker would.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The index of a handled kind.
    pub fn kind_of(&self, kind: &str) -> Option<usize> {
        if self.kinds.len() <= 8 {
            // Comparing a few short names is cheaper than hashing one.
            return self.kinds.iter().position(|k| **k == *kind);
        }
        self.kind_index.get(kind).copied()
    }

    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::Acquire)
    }

    /// Fewest waiting jobs before the claim loop claims more: half the prefetch, so the
    /// next claim is answered before the line runs dry.
    pub fn low_water(&self) -> usize {
        self.prefetch / 2
    }

    /// Takes a job out of the held set. Whoever gets `Some` owns its settlement.
    pub fn take_held(&self, lease: &Lease) -> Option<Held> {
        let taken = self.lock().remove(lease);
        if taken.is_some() {
            self.wake.notify_one();
            self.changed.notify_waiters();
        }
        taken
    }

    /// Starts what the free slots allow of the waiting line (nothing once stopping).
    /// Stopping is checked, and the jobs marked started with their abort handles, under
    /// the lock that shutdown's sweep of running handlers takes after setting `stopping`:
    /// either the sweep sees (and stops) a handler, or this sees `stopping`.
    pub fn take_startable(&self, st: &mut RunState) -> Vec<Startable> {
        if self.is_stopping() {
            return Vec::new();
        }
        st.take_startable(self)
    }

    /// Takes finished jobs out of the held set and queues their results, as one step, then
    /// (with `refill`) takes waiting jobs for the slots they freed. Keeps only the results of jobs it
    /// still owned (the heartbeat may have taken one whose lease was lost).
    ///
    /// Shutdown closes the settle channel once no handler runs, so a result sent after
    /// leaving the set could find the channel closed and be lost (the job would stay
    /// `running` until its lease expired, and run again). Holding the sender's lock across
    /// both makes shutdown wait for the send.
    pub fn finish(&self, done: &mut Vec<Settle>, refill: bool) -> Vec<Startable> {
        let tx = self.settle_tx.lock().unwrap_or_else(|p| p.into_inner());
        let mut st = self.lock();
        let mut owned = Vec::with_capacity(done.len());
        let mut stopped = 0;
        for mut s in done.drain(..) {
            if let Some(h) = st.remove(&s.lease) {
                s.ran = h.started.map(|t| t.elapsed());
                if matches!(s.outcome, Outcome::Return) && self.is_stopping() {
                    stopped += 1;
                }
                owned.push(s);
            }
        }
        let start = if refill {
            self.take_startable(&mut st)
        } else {
            Vec::new()
        };
        let claim = st.waiting_count() <= self.low_water();
        drop(st);
        if !owned.is_empty() {
            if let Some(tx) = tx.as_ref() {
                let _ = tx.send(owned);
            }
        }
        drop(tx);
        if stopped > 0 {
            Counters::add(&self.stopped, stopped);
        }
        if claim {
            self.wake.notify_one();
        }
        self.changed.notify_waiters();
        start
    }

    /// Queues results for the settle task (which may already be gone after a shutdown
    /// that stopped waiting).
    pub fn send(&self, settles: Vec<Settle>) -> bool {
        match self
            .settle_tx
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
        {
            Some(tx) => tx.send(settles).is_ok(),
            None => false,
        }
    }

    /// Fires the cancellation tokens of every running handler.
    pub fn cancel_running(&self, reason: CancelReason) {
        for c in self.started() {
            c.fire(reason);
        }
    }

    /// The cancel states of the running handlers, taken out of the lock.
    fn started(&self) -> Vec<Cancel> {
        self.lock()
            .held
            .values()
            .filter(|h| matches!(h.run, Run::Started))
            .map(|h| h.cancel.clone())
            .collect()
    }

    /// Tells the drain log and the hooks of an outcome the backend recorded.
    pub fn recorded(&self, s: &Settle) {
        if let Some(log) = &self.log {
            let job = DrainedJob::of(self, s);
            log.lock().unwrap_or_else(|p| p.into_inner()).push(job);
        }
        if let (false, Some(ran)) = (self.hooks.is_empty(), s.ran) {
            let outcome = s.outcome.public(s.job.last_attempt());
            self.finished(s.lease.id, s.job.kind, s.job.attempts, &outcome, ran);
        }
    }

    /// Tells the drain log and the hooks of a job whose lease was lost.
    pub fn note_lost(&self, lease: &Lease, h: &Held) {
        if let Some(log) = &self.log {
            let job = DrainedJob::lost(self, lease, h);
            log.lock().unwrap_or_else(|p| p.into_inner()).push(job);
        }
        if let (false, Some(started)) = (self.hooks.is_empty(), h.started) {
            let outcome = RunOutcome::Returned;
            self.finished(lease.id, h.kind, h.attempts, &outcome, started.elapsed());
        }
    }

    fn finished(&self, id: JobId, kind: usize, attempt: u32, outcome: &RunOutcome, ran: Duration) {
        let event = JobFinished {
            queue: &self.queue_name,
            id,
            kind: self.kinds.get(kind).map_or("", |k| k),
            attempt,
            outcome,
            ran,
        };
        for hook in &self.hooks {
            hook.job_finished(&event);
        }
    }

    /// Tells the hooks that `job`'s handler is about to run.
    pub fn starting(&self, job: &Job) {
        if self.hooks.is_empty() {
            return;
        }
        let waited = time::OffsetDateTime::now_utc() - job.scheduled_at;
        let event = JobStarted {
            queue: &self.queue_name,
            id: job.id,
            kind: &job.kind,
            attempt: job.attempts,
            waited: waited.try_into().unwrap_or(Duration::ZERO),
        };
        for hook in &self.hooks {
            hook.job_started(&event);
        }
    }

    /// Stops every running handler (they return their jobs as they end, see
    /// `batch::run`). The switches are taken out of the lock first.
    pub fn abort_running(&self) {
        for c in self.started() {
            c.stop();
        }
    }
}

/// Hashes job ids by their bits: they are ULIDs, unpredictable enough that SipHash buys
/// nothing, and the held set is looked up several times per job.
#[derive(Default)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u128(&mut self, n: u128) {
        // Ids of one millisecond differ in their low bits only: spread them over all bits.
        let folded = (n as u64) ^ ((n >> 64) as u64);
        self.0 = (self.0 ^ folded).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

#[derive(Default)]
pub(crate) struct Counters {
    pub claimed: AtomicU64,
    pub completed: AtomicU64,
    pub retried: AtomicU64,
    pub discarded: AtomicU64,
    pub snoozed: AtomicU64,
    pub panicked: AtomicU64,
    pub timed_out: AtomicU64,
    pub lease_lost: AtomicU64,
    pub returned: AtomicU64,
    pub cancelled: AtomicU64,
    pub errors: AtomicU64,
}

impl Counters {
    pub fn add(c: &AtomicU64, n: u64) {
        c.fetch_add(n, Ordering::Relaxed);
    }
}
