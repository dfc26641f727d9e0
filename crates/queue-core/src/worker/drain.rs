//! Running a worker until nothing is left to do: how tests run the jobs the code under
//! test enqueued.
//!
//! The same machinery as a started worker (batches, timeouts, caught panics, heartbeats,
//! the settle step), with the claim loop replaced by one that claims what is due now and
//! records results itself, so it knows when the last one is recorded.

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::cancel::CancelReason;
use super::dispatch::{claim, plan};
use super::heartbeat::heartbeat_loop;
use super::hooks::RunOutcome;
use super::settle::{record, Settle};
use super::shared::{Held, Shared};
use crate::{JobId, Lease, QueueError, Result};

/// One run of a job in a [`DrainReport`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DrainedJob {
    /// The job.
    pub id: JobId,
    /// Its kind.
    pub kind: String,
    /// The attempt this run was (1 on the first run).
    pub attempt: u32,
    /// How it ended.
    pub outcome: RunOutcome,
}

impl DrainedJob {
    pub(crate) fn of(shared: &Shared, s: &Settle) -> DrainedJob {
        let outcome = s.outcome.public(s.job.last_attempt());
        DrainedJob {
            id: s.lease.id,
            kind: kind_name(shared, s.job.kind),
            attempt: s.job.attempts,
            outcome,
        }
    }

    pub(crate) fn lost(shared: &Shared, lease: &Lease, h: &Held) -> DrainedJob {
        DrainedJob {
            id: lease.id,
            kind: kind_name(shared, h.kind),
            attempt: h.attempts,
            outcome: RunOutcome::Returned,
        }
    }
}

fn kind_name(shared: &Shared, kind: usize) -> String {
    shared
        .kinds
        .get(kind)
        .map_or_else(String::new, |k| k.to_string())
}

/// What [`Worker::run_until_idle`](super::Worker::run_until_idle) ran: every run of
/// every job, in the order their results were recorded, and counts per outcome.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DrainReport {
    /// Every run, in the order its result was recorded. A retried job appears once per
    /// attempt.
    pub jobs: Vec<DrainedJob>,
    /// Runs that completed their job.
    pub completed: usize,
    /// Failed attempts with attempts left.
    pub retried: usize,
    /// Failed attempts that dead-lettered their job.
    pub failed: usize,
    /// Jobs discarded by their handler.
    pub discarded: usize,
    /// Jobs snoozed by their handler.
    pub snoozed: usize,
    /// Runs stopped by a cancel request (their jobs end `cancelled`).
    pub cancelled: usize,
    /// Runs cut short with their jobs back in the queue (a lost lease).
    pub returned: usize,
}

impl DrainReport {
    fn new(jobs: Vec<DrainedJob>) -> DrainReport {
        let mut report = DrainReport::default();
        for job in &jobs {
            let count = match job.outcome {
                RunOutcome::Completed => &mut report.completed,
                RunOutcome::Retried(_) => &mut report.retried,
                RunOutcome::Failed(_) => &mut report.failed,
                RunOutcome::Discarded(_) => &mut report.discarded,
                RunOutcome::Snoozed(_) => &mut report.snoozed,
                RunOutcome::Cancelled => &mut report.cancelled,
                RunOutcome::Returned => &mut report.returned,
            };
            *count += 1;
        }
        report.jobs = jobs;
        report
    }

    /// The runs of job `id`, in order.
    pub fn runs_of(&self, id: JobId) -> impl Iterator<Item = &DrainedJob> {
        self.jobs.iter().filter(move |j| j.id == id)
    }
}

/// Stops what still runs when the drain is dropped before it finished.
struct Guard {
    shared: Arc<Shared>,
    heartbeat: JoinHandle<()>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.shared
            .stopping
            .store(true, std::sync::atomic::Ordering::Release);
        self.shared.cancel_running(CancelReason::Shutdown);
        self.shared.abort_running();
        self.heartbeat.abort();
    }
}

/// Claims and runs due jobs, recording their results, until a claim finds nothing, no
/// handler runs and every result is recorded.
pub(crate) async fn run(shared: Arc<Shared>) -> Result<DrainReport> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Vec<Settle>>();
    *shared.settle_tx.lock().unwrap_or_else(|p| p.into_inner()) = Some(tx);
    let _guard = Guard {
        shared: shared.clone(),
        heartbeat: tokio::spawn(heartbeat_loop(
            shared.clone(),
            shared.queue.cancel_requests(),
        )),
    };
    let mut error: Option<QueueError> = None;
    loop {
        // Results first: a retry recorded with no backoff is due at once.
        let mut recorded = false;
        while let Ok(settles) = rx.try_recv() {
            record(&shared, settles).await;
            recorded = true;
        }
        let mut got = 0;
        if error.is_none() {
            let p = plan(&shared);
            let mut room = p.room;
            for (kinds, cap) in p.groups(&shared) {
                let n = room.min(cap).min(shared.batch_size);
                if n == 0 {
                    continue;
                }
                match claim(&shared, &kinds, n).await {
                    Ok(c) => {
                        got += c.got;
                        room -= c.accepted.min(room);
                    }
                    Err(e) => {
                        // Lets what runs finish and be recorded, then reports it.
                        error = Some(e);
                        break;
                    }
                }
            }
        }
        if got > 0 || recorded {
            continue;
        }
        let changed = shared.changed.notified();
        tokio::pin!(changed);
        changed.as_mut().enable();
        {
            // In the order `Shared::finish` takes them, which holds both while it moves
            // a job from the held set to the channel.
            let _tx = shared.settle_tx.lock().unwrap_or_else(|p| p.into_inner());
            if shared.lock().held.is_empty() && rx.is_empty() {
                break;
            }
        }
        tokio::select! {
            Some(settles) = rx.recv() => record(&shared, settles).await,
            _ = changed => {}
        }
    }
    if let Some(e) = error {
        return Err(e);
    }
    let log = shared
        .log
        .as_ref()
        .map(|log| std::mem::take(&mut *log.lock().unwrap_or_else(|p| p.into_inner())))
        .unwrap_or_default();
    Ok(DrainReport::new(log))
}
