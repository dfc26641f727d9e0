//! Acks and nacks, batched off the handlers' path.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use super::shared::{Counters, Shared};
use crate::{Lease, QueueError};

/// Largest ack batch.
const MAX_BATCH: usize = 256;
/// Tries of one settle call against a failing backend before its lease is left to expire.
const TRIES: u32 = 4;

pub(crate) enum Outcome {
    Done,
    Retry(String),
    Discard(String),
    Snooze(Duration),
    /// Back to the queue without using an attempt (shutdown).
    Return,
}

pub(crate) struct Settle {
    pub lease: Lease,
    pub outcome: Outcome,
}

pub(crate) async fn settle_loop(shared: Arc<Shared>, mut rx: mpsc::UnboundedReceiver<Settle>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let mut acks = Vec::new();
        for s in batch.drain(..) {
            match s.outcome {
                Outcome::Done => acks.push(s.lease),
                other => settle_one(&shared, s.lease, other).await,
            }
        }
        if !acks.is_empty() {
            ack_all(&shared, &acks).await;
        }
    }
}

async fn ack_all(shared: &Shared, leases: &[Lease]) {
    let c = &shared.counters;
    let mut delay = Duration::from_millis(50);
    for attempt in 1..=TRIES {
        match shared.queue.ack_batch(leases).await {
            Ok(results) => {
                for (lease, r) in leases.iter().zip(results) {
                    match r {
                        Ok(()) => Counters::add(&c.completed, 1),
                        Err(e) => report(shared, lease, &e),
                    }
                }
                return;
            }
            Err(e) if attempt < TRIES => {
                tracing::warn!(error = %e, "ack failed; retrying");
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            Err(e) => {
                Counters::add(&c.errors, leases.len() as u64);
                tracing::error!(error = %e, jobs = leases.len(), "ack failed; the leases will expire and the jobs run again");
            }
        }
    }
}

async fn settle_one(shared: &Shared, lease: Lease, outcome: Outcome) {
    let c = &shared.counters;
    let q = &shared.queue;
    let mut delay = Duration::from_millis(50);
    for attempt in 1..=TRIES {
        let r = match &outcome {
            Outcome::Done => q.ack(&lease).await,
            Outcome::Retry(e) => q.nack(&lease, e).await,
            Outcome::Discard(r) => q.discard(&lease, r).await,
            Outcome::Snooze(d) => q.snooze(&lease, *d).await,
            Outcome::Return => q.snooze(&lease, Duration::ZERO).await,
        };
        match r {
            Ok(()) => {
                let counter = match &outcome {
                    Outcome::Done => &c.completed,
                    Outcome::Retry(_) => &c.retried,
                    Outcome::Discard(_) => &c.discarded,
                    Outcome::Snooze(_) => &c.snoozed,
                    Outcome::Return => &c.returned,
                };
                Counters::add(counter, 1);
                return;
            }
            Err(e) if e.is_transient() && attempt < TRIES => {
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            Err(e) => {
                report(shared, &lease, &e);
                return;
            }
        }
    }
}

fn report(shared: &Shared, lease: &Lease, e: &QueueError) {
    if matches!(e, QueueError::LeaseLost(_)) {
        Counters::add(&shared.counters.lease_lost, 1);
        tracing::warn!(id = %lease.id, "lease lost before the result was recorded");
    } else {
        Counters::add(&shared.counters.errors, 1);
        tracing::error!(id = %lease.id, error = %e, "recording the job's result failed");
    }
}
