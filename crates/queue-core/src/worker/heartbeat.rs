//! Keeps the leases of held jobs (running, or claimed ahead and waiting for a slot) alive,
//! and stops jobs whose lease was lost or could not be renewed in time.
//!
//! A lease is a promise made on the server's clock: once it runs out, the server may hand
//! the job to another claimant (after a restart, a lost connection, …). So a handler must
//! not outlive the last lease the worker knows it holds, even while the server cannot be
//! asked: each job is stopped when its lease was last set (claim or heartbeat) most of a
//! lease timeout ago, measured from when that call was sent. Waiting for the heartbeat to
//! come back and say "lost" would be too late: the job may already run elsewhere.
//!
//! Before that, the job's cancellation token fires, a grace period early (at most a
//! quarter of a lease, so a healthy heartbeat, every third of a lease, always renews the
//! lease first): the handler may still wind down and return while the lease surely holds.
//!
//! The same task hears cancel requests for held jobs, from the backend's announcements
//! and from the heartbeat's answers (see [`super::requested`]).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use tokio::time::Instant;

use super::cancel::CancelReason;
use super::requested::Requested;
use super::shared::{Counters, Run, Shared};
use crate::{CancelRequests, JobId, Lease, LeaseStatus, Result};

/// How long after a call that set a lease (sent with lease timeout `lease`) the worker
/// trusts the lease to hold: a tenth less, so the handler is stopped before the server
/// can let anyone else claim the job.
pub(crate) fn trusted(lease: Duration) -> Duration {
    lease - lease / 10
}

/// How long before a job is stopped for its lease its token fires: the worker's cancel
/// grace, at most a quarter of a lease.
pub(crate) fn lease_grace(shared: &Shared) -> Duration {
    shared.cancel_grace.min(shared.queue.lease_timeout() / 4)
}

/// When a held job's token fires for its lease: `grace` before it is stopped.
fn warn_at(held_until: Instant, grace: Duration) -> Instant {
    held_until.checked_sub(grace).unwrap_or(held_until)
}

/// A heartbeat call in flight: when it was sent, with which lease timeout, for which
/// leases.
struct Beat {
    sent: Instant,
    lease: Duration,
    leases: Vec<Lease>,
    call: Pin<Box<dyn Future<Output = Result<Vec<LeaseStatus>>> + Send>>,
}

impl Beat {
    fn send(shared: &Shared, leases: Vec<Lease>) -> Beat {
        let queue = shared.queue.clone();
        let lease = queue.lease_timeout();
        let sent_leases = leases.clone();
        Beat {
            // Taken before the call goes out (at its first poll), so on the safe side.
            sent: Instant::now(),
            lease,
            leases,
            call: Box::pin(async move { queue.heartbeat(&sent_leases).await }),
        }
    }

    /// Whether an answer could still renew anything: past this, the jobs it covers have
    /// been renewed by a later beat or stopped.
    fn is_useful(&self, now: Instant) -> bool {
        self.sent + trusted(self.lease) > now
    }
}

enum Event {
    BeatDue,
    Answer(Beat, Result<Vec<LeaseStatus>>),
    Overdue,
    Warn,
    CancelRequested(JobId),
    StopRequested,
}

/// `requests` is subscribed by the caller before any job is claimed: a subscription made
/// when this task first runs would miss the requests announced before that.
pub(crate) async fn heartbeat_loop(shared: Arc<Shared>, mut requests: CancelRequests) {
    let mut next_beat = Instant::now() + period(&shared);
    let mut beats: Vec<Beat> = Vec::new();
    let mut requested = Requested::default();
    loop {
        let grace = lease_grace(&shared);
        let (overdue_at, warn) = {
            let st = shared.lock();
            let overdue_at = st.held.values().map(|r| r.held_until).min();
            let warn = st
                .held
                .values()
                .filter(|r| matches!(r.run, Run::Started) && !r.cancel.is_fired())
                .map(|r| warn_at(r.held_until, grace))
                .min();
            (overdue_at, warn)
        };
        // Answers are waited for alongside the beat timer and the lease deadlines, so a
        // call that hangs (a server that went away) neither delays the next beat nor
        // keeps jobs running past their leases.
        let event = tokio::select! {
            (beat, held) = answer(&mut beats) => Event::Answer(beat, held),
            _ = tokio::time::sleep_until(next_beat) => Event::BeatDue,
            _ = sleep_until_some(overdue_at) => Event::Overdue,
            _ = sleep_until_some(warn) => Event::Warn,
            id = requests.next() => Event::CancelRequested(id),
            _ = sleep_until_some(requested.next_stop()) => Event::StopRequested,
        };
        match event {
            Event::BeatDue => {
                let now = Instant::now();
                next_beat = now + period(&shared);
                // A call stuck in a reconnect backoff would answer too late to help;
                // dropping it cancels it.
                beats.retain(|b| b.is_useful(now));
                let leases: Vec<Lease> = shared.lock().held.values().map(|r| r.lease).collect();
                if !leases.is_empty() {
                    beats.push(Beat::send(&shared, leases));
                }
            }
            Event::Answer(beat, Ok(held)) => {
                let until = beat.sent + trusted(beat.lease);
                for (lease, status) in beat.leases.iter().zip(held) {
                    match status {
                        LeaseStatus::Held => renewed(&shared, lease, until),
                        LeaseStatus::CancelRequested => {
                            renewed(&shared, lease, until);
                            requested.request(&shared, lease.id);
                        }
                        LeaseStatus::Lost => {
                            lost(&shared, lease, "lease lost while running; handler stopped")
                        }
                    }
                }
            }
            Event::CancelRequested(id) => requested.request(&shared, id),
            Event::StopRequested => requested.stop_due(&shared),
            Event::Answer(_, Err(e)) => tracing::warn!(
                error = %crate::ErrorChain(&e),
                "lease heartbeat failed; jobs whose lease cannot be renewed in time will be \
                 stopped"
            ),
            Event::Warn => {
                let now = Instant::now();
                let due: Vec<_> = shared
                    .lock()
                    .held
                    .values()
                    .filter(|r| {
                        matches!(r.run, Run::Started) && warn_at(r.held_until, grace) <= now
                    })
                    .map(|r| (r.lease.id, r.cancel.clone()))
                    .collect();
                for (id, cancel) in due {
                    if !cancel.is_fired() {
                        tracing::warn!(%id, "lease not renewed in time; cancelling the handler");
                        cancel.fire(CancelReason::LeaseLost);
                    }
                }
            }
            Event::Overdue => {
                let now = Instant::now();
                let overdue: Vec<Lease> = shared
                    .lock()
                    .held
                    .values()
                    .filter(|r| r.held_until <= now)
                    .map(|r| r.lease)
                    .collect();
                for lease in &overdue {
                    lost(
                        &shared,
                        lease,
                        "lease could not be renewed in time; handler stopped so the job \
                         cannot run twice at once",
                    );
                }
            }
        }
    }
}

/// The first answer of the calls in flight (taken out of `beats`); never, when none are.
async fn answer(beats: &mut Vec<Beat>) -> (Beat, Result<Vec<LeaseStatus>>) {
    std::future::poll_fn(|cx| {
        for i in 0..beats.len() {
            if let Poll::Ready(held) = beats[i].call.as_mut().poll(cx) {
                return Poll::Ready((beats.swap_remove(i), held));
            }
        }
        Poll::Pending
    })
    .await
}

/// How often leases of `lease` are renewed: a third of the lease leaves two more beats
/// before it can run out.
pub(crate) fn beat_every(lease: Duration) -> Duration {
    (lease / 3).max(Duration::from_millis(5))
}

fn period(shared: &Shared) -> Duration {
    beat_every(shared.queue.lease_timeout())
}

/// Sleeps until `at`, or forever when there is no `at`.
async fn sleep_until_some(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// The server renewed `lease`: the job may run until `until`.
fn renewed(shared: &Shared, lease: &Lease, until: Instant) {
    let mut st = shared.lock();
    if let Some(r) = st.held.get_mut(&lease.id) {
        // The same claim, not a newer one of the same job.
        if r.lease.token == lease.token && r.held_until < until {
            r.held_until = until;
        }
    }
}

/// Another claimant may run the job now: stop ours so it never runs twice at once (or,
/// still waiting for a slot, never starts).
fn lost(shared: &Shared, lease: &Lease, why: &str) {
    // Only that claim: the job may have been claimed again since the heartbeat was sent.
    if let Some(r) = shared.take_held(lease) {
        r.cancel.fire(CancelReason::LeaseLost);
        if matches!(r.run, Run::Started) {
            r.cancel.stop();
        }
        shared.note_lost(lease, &r);
        Counters::add(&shared.counters.lease_lost, 1);
        tracing::warn!(id = %lease.id, "{why}");
    }
}
