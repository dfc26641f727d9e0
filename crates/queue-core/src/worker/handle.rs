//! The running worker: pause/resume, counters, graceful shutdown.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::dispatch::claim_loop;
use super::heartbeat::heartbeat_loop;
use super::settle::{settle_loop, Outcome, Settle};
use super::shared::Shared;

/// Controls a started [`super::Worker`]. Dropping it stops claiming new jobs; call
/// [`WorkerHandle::shutdown`] to also wait for running ones.
pub struct WorkerHandle {
    shared: Arc<Shared>,
    claim: Option<JoinHandle<()>>,
    settle: Option<JoinHandle<()>>,
    heartbeat: Option<JoinHandle<()>>,
}

/// Counts since the worker started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WorkerStats {
    /// Jobs claimed.
    pub claimed: u64,
    /// Jobs running now.
    pub running: u64,
    /// Jobs whose success was recorded.
    pub completed: u64,
    /// Failed attempts recorded (retried later or dead-lettered), panics and timeouts included.
    pub retried: u64,
    /// Jobs discarded by their handler.
    pub discarded: u64,
    /// Jobs snoozed by their handler.
    pub snoozed: u64,
    /// Handlers that panicked.
    pub panicked: u64,
    /// Handlers that ran past the handler timeout.
    pub timed_out: u64,
    /// Jobs whose lease was lost (reclaimed elsewhere) before their result was recorded.
    pub lease_lost: u64,
    /// Jobs returned to the queue unfinished (without using an attempt): at shutdown, or
    /// claimed so slowly (a reconnect) that their leases could not be trusted.
    pub returned: u64,
    /// Backend errors seen while claiming or recording results.
    pub errors: u64,
}

/// What [`WorkerHandle::shutdown`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Jobs that were running when shutdown began and finished in time.
    pub finished: u64,
    /// Jobs still running at the deadline, stopped and returned to the queue.
    pub returned: u64,
}

pub(crate) fn start(shared: Arc<Shared>) -> WorkerHandle {
    let (tx, rx) = mpsc::unbounded_channel::<Settle>();
    *shared.settle_tx.lock().unwrap_or_else(|p| p.into_inner()) = Some(tx);
    WorkerHandle {
        claim: Some(tokio::spawn(claim_loop(shared.clone()))),
        settle: Some(tokio::spawn(settle_loop(shared.clone(), rx))),
        heartbeat: Some(tokio::spawn(heartbeat_loop(shared.clone()))),
        shared,
    }
}

impl WorkerHandle {
    /// Stops claiming jobs of `kind`; running ones finish.
    pub fn pause(&self, kind: &str) {
        self.shared.lock().paused.insert(kind.to_string());
    }

    /// Claims jobs of `kind` again.
    pub fn resume(&self, kind: &str) {
        self.shared.lock().paused.remove(kind);
        self.shared.wake.notify_one();
    }

    /// Whether `kind` is paused.
    pub fn is_paused(&self, kind: &str) -> bool {
        self.shared.lock().paused.contains(kind)
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> WorkerStats {
        let c = &self.shared.counters;
        let get = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
        WorkerStats {
            claimed: get(&c.claimed),
            running: self.shared.lock().running.len() as u64,
            completed: get(&c.completed),
            retried: get(&c.retried),
            discarded: get(&c.discarded),
            snoozed: get(&c.snoozed),
            panicked: get(&c.panicked),
            timed_out: get(&c.timed_out),
            lease_lost: get(&c.lease_lost),
            returned: get(&c.returned),
            errors: get(&c.errors),
        }
    }

    /// Stops claiming, lets running jobs finish for up to `timeout`, then stops the rest
    /// and returns them to the queue (without using an attempt). Returns once every result
    /// has been recorded.
    pub async fn shutdown(mut self, timeout: Duration) -> ShutdownReport {
        self.shared.stopping.store(true, Ordering::Release);
        self.shared.wake.notify_one();
        let deadline = tokio::time::Instant::now() + timeout;
        if let Some(mut claim) = self.claim.take() {
            // The claim loop stops at its next step once woken. A claim in flight is let
            // finish, so its jobs run or are returned below: aborting it could drop jobs a
            // backend had already marked running (they would wait out their lease and lose
            // an attempt).
            if tokio::time::timeout_at(deadline, &mut claim).await.is_err() {
                claim.abort();
                let _ = claim.await;
            }
        }
        let at_start = self.shared.lock().running.len() as u64;
        loop {
            let changed = self.shared.changed.notified();
            if self.shared.lock().running.is_empty() {
                break;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                break;
            }
        }
        let left: Vec<_> = {
            let mut st = self.shared.lock();
            st.per_kind.clear();
            st.running.drain().map(|(_, r)| r).collect()
        };
        for r in &left {
            if let Some(abort) = &r.abort {
                abort.abort();
            }
            self.shared.send(Settle {
                lease: r.lease,
                outcome: Outcome::Return,
            });
        }
        // Closing the channel lets the settle task finish what is queued, then end.
        self.shared
            .settle_tx
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(settle) = self.settle.take() {
            let _ = settle.await;
        }
        if let Some(hb) = self.heartbeat.take() {
            hb.abort();
        }
        let returned = left.len() as u64;
        ShutdownReport {
            finished: at_start - returned,
            returned,
        }
    }
}

impl Drop for WorkerHandle {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::Release);
        if let Some(claim) = self.claim.take() {
            claim.abort();
        }
        if let Some(hb) = self.heartbeat.take() {
            hb.abort();
        }
    }
}
