//! State shared by the worker's tasks.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::{mpsc, Notify};
use tokio::task::AbortHandle;

use super::handler::Handler;
use super::settle::Settle;
use crate::{JobId, Lease, Queue};

pub(crate) struct Shared {
    pub queue: Arc<dyn Queue>,
    pub handlers: HashMap<String, Handler>,
    pub kinds: Vec<String>,
    pub limits: HashMap<String, usize>,
    pub concurrency: usize,
    pub batch_size: usize,
    pub handler_timeout: Option<Duration>,
    pub poll_interval: Duration,
    pub state: Mutex<RunState>,
    /// Wakes the claim loop: a slot freed, a kind resumed, or shutdown.
    pub wake: Notify,
    /// Wakes shutdown's wait for running jobs.
    pub changed: Notify,
    pub stopping: AtomicBool,
    pub counters: Counters,
    /// Handlers stopped by shutdown (or drop) before they finished; their jobs were
    /// returned to the queue.
    pub stopped: AtomicU64,
    pub settle_tx: Mutex<Option<mpsc::UnboundedSender<Settle>>>,
}

pub(crate) struct Running {
    pub lease: Lease,
    /// Until when, by our clock, the lease surely still holds (see `heartbeat::trusted`).
    /// Past it, the server may hand the job to another claimant.
    pub held_until: tokio::time::Instant,
    pub kind: String,
    pub abort: Option<AbortHandle>,
}

pub(crate) struct RunState {
    pub running: HashMap<JobId, Running>,
    pub per_kind: HashMap<String, usize>,
    pub paused: HashSet<String>,
}

impl Shared {
    pub fn lock(&self) -> MutexGuard<'_, RunState> {
        // A panic while holding this lock cannot leave it inconsistent in a way that matters
        // more than stopping the worker would.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::Acquire)
    }

    /// Takes a job out of the running set. Whoever gets `Some` owns its settlement.
    pub fn take_running(&self, id: JobId) -> Option<Running> {
        let taken = {
            let mut st = self.lock();
            let r = st.running.remove(&id);
            if let Some(r) = &r {
                if let Some(n) = st.per_kind.get_mut(&r.kind) {
                    *n = n.saturating_sub(1);
                }
            }
            r
        };
        if taken.is_some() {
            self.wake.notify_one();
            self.changed.notify_waiters();
        }
        taken
    }

    /// Takes a finished job out of the running set and queues its result, as one step;
    /// returns whether it still owned the job. Shutdown closes the settle channel once the
    /// running set is empty, so a result sent after leaving the set could find the channel
    /// closed and be lost (the job would stay `running` until its lease expired, and run
    /// again). Holding the sender's lock across both makes shutdown wait for the send.
    pub fn finish(&self, s: Settle) -> bool {
        let tx = self.settle_tx.lock().unwrap_or_else(|p| p.into_inner());
        let owned = self.take_running(s.lease.id).is_some();
        if owned {
            if let Some(tx) = tx.as_ref() {
                let _ = tx.send(s);
            }
        }
        owned
    }

    /// Stops every running handler (they return their jobs as they end, see
    /// `dispatch::Settler`). The abort handles are taken out of the lock first: a task's
    /// end takes the same lock.
    pub fn abort_running(&self) {
        let aborts: Vec<AbortHandle> = self
            .lock()
            .running
            .values()
            .filter_map(|r| r.abort.clone())
            .collect();
        for a in aborts {
            a.abort();
        }
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
    pub errors: AtomicU64,
}

impl Counters {
    pub fn add(c: &AtomicU64, n: u64) {
        c.fetch_add(n, Ordering::Relaxed);
    }
}
