//! The running worker: pause/resume, counters, graceful shutdown.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::cancel::CancelReason;
use super::dispatch::claim_loop;
use super::heartbeat::heartbeat_loop;
use super::settle::{settle_loop, Claimed, Outcome, Settle};
use super::shared::Shared;

/// Controls a started [`super::Worker`].
///
/// Call [`WorkerHandle::shutdown`] to stop: it lets running jobs finish for a while and
/// waits until every result is recorded. Dropping the handle instead is a shutdown with
/// no time for running jobs, carried out in the background: claiming stops, running
/// handlers' cancellation tokens fire and the handlers are stopped at once (at their next
/// `.await`) and their jobs returned to the queue without using an attempt, and a claim
/// in flight is let finish and its jobs returned too. Nothing waits for that to complete, so when the runtime ends right
/// after, jobs not yet returned wait out their lease.
pub struct WorkerHandle {
    shared: Arc<Shared>,
    runtime: tokio::runtime::Handle,
    claim: Option<JoinHandle<()>>,
    settle: Option<JoinHandle<()>>,
    heartbeat: Option<JoinHandle<()>>,
    /// The gauge sampler, when asked for (`Worker::gauges`).
    gauges: Option<JoinHandle<()>>,
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
    /// Jobs returned to the queue unfinished (without using an attempt): at shutdown (those
    /// running and those claimed ahead), claimed ahead when their kind was paused,
    /// claimed so slowly (a reconnect) that their leases could not be trusted, or given up
    /// by their handler once a shutdown or a lost lease fired its token.
    pub returned: u64,
    /// Jobs stopped by a cancel request (running, or claimed ahead): handed back, and
    /// ended `cancelled` by the backend.
    pub cancelled: u64,
    /// Backend errors seen while claiming or recording results.
    pub errors: u64,
}

/// What [`WorkerHandle::shutdown`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Jobs that were running when shutdown began and finished in time.
    pub finished: u64,
    /// Jobs still running at the deadline, stopped and returned to the queue, and jobs
    /// whose handler gave up (returned an error) once its token fired.
    pub returned: u64,
}

pub(crate) fn start(shared: Arc<Shared>) -> WorkerHandle {
    let (tx, rx) = mpsc::unbounded_channel::<Vec<Settle>>();
    *shared.settle_tx.lock().unwrap_or_else(|p| p.into_inner()) = Some(tx);
    // Before the first claim, so no request for a job this worker holds goes unheard.
    let requests = shared.queue.cancel_requests();
    WorkerHandle {
        runtime: tokio::runtime::Handle::current(),
        claim: Some(tokio::spawn(claim_loop(shared.clone()))),
        settle: Some(tokio::spawn(settle_loop(shared.clone(), rx))),
        heartbeat: Some(tokio::spawn(heartbeat_loop(shared.clone(), requests))),
        gauges: spawn_gauges(&shared),
        shared,
    }
}

#[cfg(feature = "metrics")]
fn spawn_gauges(shared: &Shared) -> Option<JoinHandle<()>> {
    let (source, every) = shared.gauges.clone()?;
    let queue = shared.queue_name.clone();
    Some(tokio::spawn(crate::metrics::sample_gauges(
        queue, source, every,
    )))
}

#[cfg(not(feature = "metrics"))]
fn spawn_gauges(_: &Shared) -> Option<JoinHandle<()>> {
    None
}

impl WorkerHandle {
    /// Stops claiming jobs of `kind`; running ones finish.
    pub fn pause(&self, kind: &str) {
        self.shared.lock().paused.insert(kind.to_string());
        // Jobs of `kind` claimed ahead are handed back by the claim loop.
        self.shared.wake.notify_one();
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
            running: self.shared.lock().started as u64,
            completed: get(&c.completed),
            retried: get(&c.retried),
            discarded: get(&c.discarded),
            snoozed: get(&c.snoozed),
            panicked: get(&c.panicked),
            timed_out: get(&c.timed_out),
            lease_lost: get(&c.lease_lost),
            returned: get(&c.returned),
            cancelled: get(&c.cancelled),
            errors: get(&c.errors),
        }
    }

    /// Stops claiming, lets running jobs finish for up to `timeout`, then stops the rest
    /// and returns them to the queue (without using an attempt). Returns once every result
    /// has been recorded. A handler is stopped at its next `.await`; one that finishes at
    /// that moment has its result recorded rather than its job returned, never both.
    ///
    /// The cancellation tokens of running handlers fire ([`CancelReason::Shutdown`]) the
    /// [cancel grace](super::Worker::cancel_grace) before the deadline, or at once when
    /// `timeout` is shorter than the grace. A handler that then returns an error has its
    /// job returned too (counted in [`ShutdownReport::returned`]); one that returns `Ok`
    /// completes it.
    ///
    /// A claim in flight is never cancelled (its jobs would stay claimed until their leases
    /// ran out, and lose an attempt): its jobs are returned to the queue when it answers.
    /// If it has not answered by the deadline, shutdown returns without it and the claim
    /// task hands its jobs back on its own once the backend answers.
    pub async fn shutdown(mut self, timeout: Duration) -> ShutdownReport {
        let deadline = tokio::time::Instant::now() + timeout;
        match self.begin_stop() {
            Some(stop) => stop.run(Some(deadline)).await,
            None => ShutdownReport::default(),
        }
    }

    /// Waits for SIGTERM (on unix) or Ctrl-C, then [shuts down](WorkerHandle::shutdown)
    /// with `timeout`. Needs a runtime with I/O enabled (as `#[tokio::main]` makes); cargo
    /// feature `signal`, on by default. For a worker process's `main`:
    ///
    /// ```no_run
    /// # async fn demo(queue: std::sync::Arc<dyn queue_core::Queue>) -> queue_core::Result<()> {
    /// use queue_core::{Job, JobError, Worker};
    /// let worker = Worker::new(queue)
    ///     .handle("email", |_job: Job| async { Ok::<(), JobError>(()) })
    ///     .start()?;
    /// let report = worker.shutdown_on_signal(std::time::Duration::from_secs(30)).await;
    /// println!("{} jobs returned to the queue", report.returned);
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "signal")]
    #[cfg_attr(docsrs, doc(cfg(feature = "signal")))]
    pub async fn shutdown_on_signal(self, timeout: Duration) -> ShutdownReport {
        super::signal::terminated().await;
        tracing::info!(?timeout, "signal received; shutting down");
        self.shutdown(timeout).await
    }

    /// Stops claiming and takes the tasks to wind down; `None` when already stopped.
    fn begin_stop(&mut self) -> Option<Stop> {
        let settle = self.settle.take()?;
        if let Some(g) = self.gauges.take() {
            // It holds nothing to flush.
            g.abort();
        }
        self.shared.stopping.store(true, Ordering::Release);
        self.shared.wake.notify_one();
        Some(Stop {
            shared: self.shared.clone(),
            claim: self.claim.take(),
            settle,
            heartbeat: self.heartbeat.take(),
        })
    }
}

/// The worker's tasks, being wound down.
struct Stop {
    shared: Arc<Shared>,
    claim: Option<JoinHandle<()>>,
    settle: JoinHandle<()>,
    heartbeat: Option<JoinHandle<()>>,
}

impl Stop {
    /// Winds down (see [`Stop::wind_down`]), firing the tokens of the handlers still
    /// running the cancel grace before `deadline`.
    async fn run(self, deadline: Option<tokio::time::Instant>) -> ShutdownReport {
        // Nothing starts once stopping: only these can finish or be returned.
        let at_start = self.shared.lock().started as u64;
        let shared = self.shared.clone();
        let fire = async move {
            if let Some(deadline) = deadline {
                let at = deadline
                    .checked_sub(shared.cancel_grace)
                    .unwrap_or(deadline);
                tokio::time::sleep_until(at).await;
                shared.cancel_running(CancelReason::Shutdown);
            }
            std::future::pending::<std::convert::Infallible>().await
        };
        tokio::select! {
            report = self.wind_down(deadline, at_start) => report,
            never = fire => match never {},
        }
    }

    /// Waits for the claim loop (until `deadline`; when `None`, for as long as it takes),
    /// lets running handlers finish until `deadline`, stops the rest (they return their
    /// jobs), then waits for every result to be recorded.
    async fn wind_down(
        mut self,
        deadline: Option<tokio::time::Instant>,
        at_start: u64,
    ) -> ShutdownReport {
        if let Some(mut claim) = self.claim.take() {
            // The claim loop stops at its next step once woken. A claim in flight is let
            // finish, so its jobs are returned: aborting it could drop jobs a backend had
            // already marked running (they would wait out their lease and lose an
            // attempt). Past the deadline it is left to finish on its own.
            match deadline {
                Some(deadline) => {
                    let _ = tokio::time::timeout_at(deadline, &mut claim).await;
                }
                None => {
                    let _ = claim.await;
                }
            }
        }
        self.hand_back_waiting();
        if let Some(deadline) = deadline {
            let _ = tokio::time::timeout_at(deadline, self.all_ended()).await;
        }
        // Each stopped handler returns its job as it ends; one that finished at this very
        // moment records its result instead (see `batch::run`).
        self.shared.abort_running();
        self.all_ended().await;
        // Closing the channel lets the settle task finish what is queued, then end.
        self.shared
            .settle_tx
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        let _ = (&mut self.settle).await;
        if let Some(hb) = self.heartbeat.take() {
            hb.abort();
        }
        let returned = self.shared.stopped.load(Ordering::Relaxed);
        ShutdownReport {
            finished: at_start.saturating_sub(returned),
            returned,
        }
    }

    /// Until no handler runs.
    async fn all_ended(&self) {
        loop {
            let changed = self.shared.changed.notified();
            if self.shared.lock().started == 0 {
                return;
            }
            changed.await;
        }
    }

    /// Returns the jobs claimed ahead that never started, through the settle task (which
    /// records them before it ends). Nothing starts any more: `stopping` is set, and the
    /// claim loop hands back the jobs of a claim that answers later by itself.
    fn hand_back_waiting(&self) {
        let jobs = self
            .shared
            .lock()
            .release_waiting(false, &self.shared.kinds);
        let settles: Vec<Settle> = jobs
            .into_iter()
            .filter_map(|job| {
                let kind = self.shared.kind_of(&job.kind)?;
                Some(Settle {
                    lease: job.lease?,
                    job: Claimed::of(&job, kind),
                    outcome: Outcome::Return,
                    ran: None,
                })
            })
            .collect();
        if !settles.is_empty() {
            self.shared.send(settles);
            self.shared.changed.notify_waiters();
        }
    }
}

impl Drop for WorkerHandle {
    /// As a shutdown with no time for running jobs: handlers are stopped here and now,
    /// and the rest (returning their jobs, letting a claim in flight answer and returning
    /// its jobs, recording results) goes on in the background on the worker's runtime.
    fn drop(&mut self) {
        let Some(stop) = self.begin_stop() else {
            return;
        };
        // Stopped before anything else: no handler may outlive its heartbeat.
        self.shared.cancel_running(CancelReason::Shutdown);
        self.shared.abort_running();
        // The runtime the worker was started on; if it is gone, so are the tasks.
        drop(self.runtime.spawn(stop.run(None)));
    }
}
