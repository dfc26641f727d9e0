//! Acks and nacks, batched off the handlers' path.
//!
//! Results arrive in bulk (a batch task hands over what finished in one go). Whatever
//! piles up while a call is in flight goes out together: acks as one `ack_batch` per
//! [`MAX_BATCH`], the other outcomes (which have no batch form) side by side.

use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::{self, StreamExt};
use tokio::sync::mpsc;

use super::handler::HandlerOutput;
use super::hooks::RunOutcome;
use super::shared::{Counters, Shared};
use crate::{Completion, Job, Lease, QueueError};

/// Largest ack batch.
const MAX_BATCH: usize = 256;
/// Tries of one settle call against a failing backend before its lease is left to expire.
const TRIES: u32 = 4;
/// Most non-ack results recorded at once.
pub(crate) const PARALLEL: usize = 16;

pub(crate) enum Outcome {
    /// Succeeded, with what the handler returned to store.
    Done(HandlerOutput),
    Retry(String),
    Discard(String),
    Snooze(Duration),
    /// Back to the queue without using an attempt (shutdown, a lost lease).
    Return,
    /// Stopped by a cancel request: handed back like `Return`, and the backend, which
    /// holds the request, ends the job `cancelled`.
    Cancelled,
}

impl Outcome {
    /// What hooks and drain reports are told; `last_attempt` tells a dead-lettering
    /// failure from a retry.
    pub fn public(&self, last_attempt: bool) -> RunOutcome {
        match self {
            Outcome::Done(_) => RunOutcome::Completed,
            Outcome::Retry(e) if last_attempt => RunOutcome::Failed(e.clone()),
            Outcome::Retry(e) => RunOutcome::Retried(e.clone()),
            Outcome::Discard(r) => RunOutcome::Discarded(r.clone()),
            Outcome::Snooze(d) => RunOutcome::Snoozed(*d),
            Outcome::Return => RunOutcome::Returned,
            Outcome::Cancelled => RunOutcome::Cancelled,
        }
    }
}

/// What the worker knows of a claimed job, for the log lines of its settlement.
#[derive(Clone)]
pub(crate) struct Claimed {
    /// Its kind's index in `Shared::kinds`.
    pub kind: usize,
    /// Attempts used, this claim included.
    pub attempts: u32,
    pub max_attempts: u32,
}

impl Claimed {
    pub fn of(job: &Job, kind: usize) -> Claimed {
        Claimed {
            kind,
            attempts: job.attempts,
            max_attempts: job.max_attempts,
        }
    }

    /// Whether a failed attempt now dead-letters the job (and a lost lease, reclaimed by
    /// the backend, fails it as "lease expired").
    pub fn last_attempt(&self) -> bool {
        self.attempts >= self.max_attempts
    }
}

pub(crate) struct Settle {
    pub lease: Lease,
    pub job: Claimed,
    pub outcome: Outcome,
    /// How long its handler ran; `None` for a job handed back before it started.
    pub ran: Option<Duration>,
}

pub(crate) async fn settle_loop(shared: Arc<Shared>, mut rx: mpsc::UnboundedReceiver<Vec<Settle>>) {
    let mut received = Vec::new();
    while rx.recv_many(&mut received, MAX_BATCH).await > 0 {
        record(&shared, received.drain(..).flatten().collect()).await;
    }
}

/// Records results: acks in batches, the rest side by side.
pub(crate) async fn record(shared: &Shared, settles: Vec<Settle>) {
    let (acks, others): (Vec<Settle>, Vec<Settle>) = settles
        .into_iter()
        .partition(|s| matches!(s.outcome, Outcome::Done(_)));
    stream::iter(&others)
        .for_each_concurrent(PARALLEL, |s| settle_one(shared, s))
        .await;
    for chunk in acks.chunks(MAX_BATCH) {
        ack_all(shared, chunk).await;
    }
}

/// Completes a batch: one `ack_batch`, or one `complete_batch` when a handler returned an
/// output. A job whose output the backend refuses (over its size limit) still did its
/// work: it completes without the output.
async fn ack_all(shared: &Shared, settles: &[Settle]) {
    let refused = complete(shared, settles, true).await;
    if !refused.is_empty() {
        let refused: Vec<&Settle> = refused.into_iter().map(|i| &settles[i]).collect();
        for s in &refused {
            tracing::warn!(id = %s.lease.id, "the backend refused the job's output; completing it without");
        }
        let plain: Vec<Settle> = refused
            .into_iter()
            .map(|s| Settle {
                lease: s.lease,
                job: s.job.clone(),
                outcome: Outcome::Done(None),
                ran: s.ran,
            })
            .collect();
        complete(shared, &plain, false).await;
    }
}

/// One completion call for `settles`, retried while the call as a whole fails; returns
/// the indexes of the entries whose output was refused (when `outputs`).
async fn complete(shared: &Shared, settles: &[Settle], outputs: bool) -> Vec<usize> {
    let c = &shared.counters;
    let with_output = outputs
        && settles
            .iter()
            .any(|s| matches!(s.outcome, Outcome::Done(Some(_))));
    let leases: Vec<Lease> = settles.iter().map(|s| s.lease).collect();
    let completions: Vec<Completion> = if with_output {
        settles
            .iter()
            .map(|s| Completion {
                lease: s.lease,
                output: match &s.outcome {
                    Outcome::Done(output) => output.clone(),
                    _ => None,
                },
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut refused = Vec::new();
    let mut delay = Duration::from_millis(50);
    for attempt in 1..=TRIES {
        let call = if with_output {
            shared.queue.complete_batch(&completions).await
        } else {
            shared.queue.ack_batch(&leases).await
        };
        match call {
            Ok(results) => {
                for (i, (s, r)) in settles.iter().zip(results).enumerate() {
                    match r {
                        Ok(()) => {
                            Counters::add(&c.completed, 1);
                            shared.recorded(s);
                        }
                        Err(QueueError::InvalidJob(_)) if with_output => refused.push(i),
                        Err(e) => report(shared, s, &e),
                    }
                }
                return refused;
            }
            Err(e) if attempt < TRIES => {
                tracing::warn!(error = %crate::ErrorChain(&e), "ack failed; retrying");
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            Err(e) => {
                Counters::add(&c.errors, leases.len() as u64);
                tracing::error!(error = %crate::ErrorChain(&e), jobs = leases.len(), "ack failed; the leases will expire and the jobs run again");
            }
        }
    }
    refused
}

/// Records one result, retrying transient errors a few times.
pub(crate) async fn settle_one(shared: &Shared, s: &Settle) {
    let (lease, outcome) = (s.lease, &s.outcome);
    let c = &shared.counters;
    let q = &shared.queue;
    let mut delay = Duration::from_millis(50);
    for attempt in 1..=TRIES {
        let r = match outcome {
            Outcome::Done(_) => q.ack(&lease).await,
            Outcome::Retry(e) => q.nack(&lease, e).await,
            Outcome::Discard(r) => q.discard(&lease, r).await,
            Outcome::Snooze(d) => q.snooze(&lease, *d).await,
            Outcome::Return | Outcome::Cancelled => q.snooze(&lease, Duration::ZERO).await,
        };
        match r {
            Ok(()) => {
                failed_for_good(shared, s);
                let counter = match outcome {
                    Outcome::Done(_) => &c.completed,
                    Outcome::Retry(_) => &c.retried,
                    Outcome::Discard(_) => &c.discarded,
                    Outcome::Snooze(_) => &c.snoozed,
                    Outcome::Return => &c.returned,
                    Outcome::Cancelled => &c.cancelled,
                };
                Counters::add(counter, 1);
                shared.recorded(s);
                return;
            }
            Err(e) if e.is_transient() && attempt < TRIES => {
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            Err(e) => {
                report(shared, s, &e);
                return;
            }
        }
    }
}

/// A job that will not run again is worth an operator's attention: WARN, with what is
/// needed to find it and why it failed.
fn failed_for_good(shared: &Shared, s: &Settle) {
    match &s.outcome {
        Outcome::Retry(error) if s.job.last_attempt() => {
            warn_failed(shared, s, error, "attempts used up, dead-lettered")
        }
        Outcome::Discard(reason) => warn_failed(shared, s, reason, "discarded by its handler"),
        _ => {}
    }
}

fn warn_failed(shared: &Shared, s: &Settle, error: &str, how: &str) {
    let kind = shared.kinds.get(s.job.kind).map_or("", |k| &**k);
    tracing::warn!(
        id = %s.lease.id,
        kind = %kind,
        attempts = s.job.attempts,
        error = %error,
        how,
        "job failed for good"
    );
}

fn report(shared: &Shared, s: &Settle, e: &QueueError) {
    let (id, job) = (s.lease.id, &s.job);
    if matches!(e, QueueError::LeaseLost(_)) {
        Counters::add(&shared.counters.lease_lost, 1);
        shared.recorded(&Settle {
            lease: s.lease,
            job: s.job.clone(),
            outcome: Outcome::Return,
            ran: s.ran,
        });
        if job.last_attempt() {
            // Reclaimed with no attempt left, the backend failed it as "lease expired".
            warn_failed(
                shared,
                s,
                crate::LEASE_EXPIRED,
                "lease expired before the result was recorded",
            );
        } else {
            tracing::warn!(id = %id, "lease lost before the result was recorded");
        }
    } else {
        Counters::add(&shared.counters.errors, 1);
        tracing::error!(id = %id, error = %crate::ErrorChain(e), "recording the job's result failed");
    }
}
