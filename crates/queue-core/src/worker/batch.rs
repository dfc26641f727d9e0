//! Runs a batch of jobs on one task.
//!
//! A task per job costs a spawn and a cross-thread wake-up per job, and one more per
//! result sent to the settle task. Here a batch's handlers run side by side in a
//! `FuturesUnordered` on one task, each with its own timeout, stop switch and panic
//! guard; results are handed over in bulk whenever the task has nothing left to poll, and
//! each freed slot is refilled from the waiting line on the same task.
//!
//! A batch on one task uses one core at a time, so a claim is split over as many tasks as
//! the runtime has worker threads ([`spawn`]): CPU-heavy handlers still spread over the
//! cores, as work stealing moves whole batches between threads.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;

use futures_util::stream::{FuturesUnordered, Stream};
use tracing::Instrument;

use super::cancel::{Cancel, CancelReason, Stoppable, Stopped};
use super::context::JobContext;
use super::handler::{CatchPanic, JobError};
use super::settle::{Claimed, Outcome, Settle};
use super::shared::{Counters, Shared, Startable};
use crate::{Job, Lease};

/// Most results handed over at once; past it a busy batch flushes mid-poll.
const FLUSH_MAX: usize = 256;

/// Starts `jobs` (already marked started) over a few tasks.
pub(crate) fn spawn(shared: &Arc<Shared>, jobs: Vec<Startable>) {
    if jobs.is_empty() {
        return;
    }
    let tasks = shared.lanes.clamp(1, jobs.len());
    let per_task = jobs.len().div_ceil(tasks);
    let mut jobs = jobs.into_iter().peekable();
    while jobs.peek().is_some() {
        let mut batch = Batch::new(shared.clone());
        // Filed before the task exists, so a task dropped unpolled still returns them.
        let first: Vec<Filed> = jobs
            .by_ref()
            .take(per_task)
            .map(|s| batch.file(s))
            .collect();
        tokio::spawn(run(batch, first));
    }
}

/// A job filed in its batch, its handler not yet made.
struct Filed {
    slot: usize,
    job: Job,
    kind: usize,
    cancel: Cancel,
}

/// The jobs of one batch task that are not settled yet. Dropped with jobs left (the task
/// was dropped: the runtime is shutting down) it returns them to the queue, like a
/// shutdown would.
struct Batch {
    shared: Arc<Shared>,
    /// By slot; a job's future yields its slot.
    jobs: Vec<Option<(Lease, Claimed)>>,
    free: Vec<usize>,
}

impl Batch {
    fn new(shared: Arc<Shared>) -> Batch {
        Batch {
            shared,
            jobs: Vec::new(),
            free: Vec::new(),
        }
    }

    fn file(&mut self, s: Startable) -> Filed {
        let entry = Some((s.lease, Claimed::of(&s.job, s.kind)));
        let slot = match self.free.pop() {
            Some(slot) => {
                self.jobs[slot] = entry;
                slot
            }
            None => {
                self.jobs.push(entry);
                self.jobs.len() - 1
            }
        };
        Filed {
            slot,
            job: s.job,
            kind: s.kind,
            cancel: s.cancel,
        }
    }

    /// The future that runs a filed job: its handler, timed out, panics caught, stopped
    /// by its job's switch, in the job's span. Yields the job's slot and outcome.
    fn start(&self, f: Filed) -> impl Future<Output = (usize, Outcome)> {
        let Filed {
            slot,
            job,
            kind,
            cancel,
        } = f;
        self.shared.starting(&job);
        let span =
            tracing::info_span!("job", id = %job.id, kind = %job.kind, attempt = job.attempts);
        let deadline = self
            .shared
            .handler_timeout
            .map(|t| tokio::time::Instant::now() + t);
        let ctx = JobContext::new(
            &job,
            self.shared.kinds[kind].clone(),
            deadline,
            cancel.clone(),
            self.shared.data.clone(),
        );
        // Made here, so the future holds the handler's boxed future rather than the job.
        let fut = CatchPanic((self.shared.handlers[kind])(job, &ctx));
        drop(ctx);
        let fut = Stoppable::new(fut, cancel.clone());
        let run = run_one(self.shared.clone(), fut, cancel, deadline).instrument(span);
        async move { (slot, run.await) }
    }

    fn settle(&mut self, slot: usize, outcome: Outcome) -> Option<Settle> {
        let (lease, job) = self.jobs.get_mut(slot)?.take()?;
        self.free.push(slot);
        Some(Settle {
            lease,
            job,
            outcome,
            // Filled in from the held entry as it is taken out (`Shared::finish`).
            ran: None,
        })
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        let mut left: Vec<Settle> = (0..self.jobs.len())
            .filter_map(|slot| self.settle(slot, Outcome::Return))
            .collect();
        if !left.is_empty() {
            // Starts nothing more: the task is gone.
            self.shared.finish(&mut left, false);
        }
    }
}

/// Runs the batch until it has no job left and none waits for a free slot.
async fn run(mut batch: Batch, first: Vec<Filed>) {
    let mut running = FuturesUnordered::new();
    for f in first {
        running.push(batch.start(f));
    }
    let mut done: Vec<Settle> = Vec::new();
    loop {
        std::future::poll_fn(|cx| {
            // Collects finished jobs until nothing is ready; ready when there is
            // something to hand over, or nothing runs.
            loop {
                match Pin::new(&mut running).poll_next(cx) {
                    Poll::Ready(Some((slot, outcome))) => {
                        if let Some(s) = batch.settle(slot, outcome) {
                            done.push(s);
                        }
                        if done.len() >= FLUSH_MAX {
                            return Poll::Ready(());
                        }
                    }
                    Poll::Ready(None) => return Poll::Ready(()),
                    Poll::Pending if done.is_empty() => return Poll::Pending,
                    Poll::Pending => return Poll::Ready(()),
                }
            }
        })
        .await;
        for s in batch.shared.finish(&mut done, true) {
            let f = batch.file(s);
            running.push(batch.start(f));
        }
        if running.is_empty() {
            return;
        }
    }
}

/// Runs one handler and turns how it ended into the outcome to record.
///
/// At the deadline the job's token fires and the handler gets the grace period to return;
/// `Ok` within it still completes the job (its work is done), anything else fails the
/// attempt as timed out. After a shutdown, a lost lease or a cancel request fired the
/// token, a handler that returns an error has its job returned rather than failed: it
/// was interrupted (and the backend ends a job with a cancel request `cancelled`).
async fn run_one(
    shared: Arc<Shared>,
    mut fut: Stoppable<CatchPanic>,
    cancel: Cancel,
    deadline: Option<tokio::time::Instant>,
) -> Outcome {
    let result = match deadline {
        None => Some((&mut fut).await),
        // Boxed: a timer is large, and most workers set no timeout.
        Some(at) => match Box::pin(tokio::time::timeout_at(at, &mut fut)).await {
            Ok(r) => Some(r),
            Err(_) => {
                Counters::add(&shared.counters.timed_out, 1);
                cancel.fire(CancelReason::Timeout);
                Box::pin(tokio::time::timeout(shared.cancel_grace, &mut fut))
                    .await
                    .ok()
            }
        },
    };
    let timed_out = || {
        tracing::warn!("handler timed out");
        Outcome::Retry(format!(
            "handler timed out after {:?}",
            shared.handler_timeout.unwrap_or_default()
        ))
    };
    let error = match result {
        None => return timed_out(),
        // Stopped by shutdown or drop, or by the heartbeat when the lease was lost (then
        // no longer held: `finish` records nothing).
        Some(Err(Stopped)) if cancel.reason() == Some(CancelReason::Requested) => {
            return Outcome::Cancelled
        }
        Some(Err(Stopped)) => return Outcome::Return,
        Some(Ok(Err(panic))) => {
            Counters::add(&shared.counters.panicked, 1);
            tracing::error!(panic = %panic, "handler panicked");
            return Outcome::Retry(format!("handler panicked: {panic}"));
        }
        Some(Ok(Ok(Ok(output)))) => return Outcome::Done(output),
        Some(Ok(Ok(Err(e)))) => e,
    };
    match cancel.reason() {
        Some(CancelReason::Timeout) => return timed_out(),
        Some(CancelReason::Shutdown | CancelReason::LeaseLost) => {
            tracing::info!(error = %error, "handler stopped early; job returned");
            return Outcome::Return;
        }
        Some(CancelReason::Requested) => {
            // Returned, the backend ends it `cancelled` without using an attempt.
            tracing::info!(error = %error, "handler stopped on request; job cancelled");
            return Outcome::Cancelled;
        }
        None => {}
    }
    match error {
        JobError::Retry(e) => {
            tracing::info!(error = %e, "attempt failed");
            Outcome::Retry(e)
        }
        JobError::Discard(r) => {
            tracing::info!(reason = %r, "job discarded");
            Outcome::Discard(r)
        }
        JobError::Snooze(d) => Outcome::Snooze(d),
    }
}
