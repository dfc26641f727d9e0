//! Cancel requests for held jobs (see [`Queue::cancel`](crate::Queue::cancel)), heard from
//! the backend's announcements or a heartbeat: the handler's token fires with
//! [`CancelReason::Requested`], and a handler still running a grace period later is
//! stopped. Either way its job is returned, which the backend records as `cancelled`.

use tokio::time::Instant;

use super::cancel::CancelReason;
use super::settle::{Claimed, Outcome, Settle};
use super::shared::{Run, Shared};
use crate::{JobId, Lease};

/// Handlers asked to stop, and when each is stopped if it has not returned.
#[derive(Default)]
pub(crate) struct Requested {
    stops: Vec<(Lease, Instant)>,
}

impl Requested {
    /// When the next handler is due to be stopped.
    pub fn next_stop(&self) -> Option<Instant> {
        self.stops.iter().map(|(_, at)| *at).min()
    }

    /// Acts on a request for job `id`, if this worker holds it and was not told yet. A
    /// job still waiting for a slot never starts: it is handed back at once.
    pub fn request(&mut self, shared: &Shared, id: JobId) {
        let mut st = shared.lock();
        let Some(h) = st.held.get(&id) else {
            return;
        };
        if h.cancel.reason() == Some(CancelReason::Requested) {
            return;
        }
        let (lease, cancel, kind) = (h.lease, h.cancel.clone(), h.kind);
        match h.run {
            Run::Started => {
                self.stops
                    .push((lease, Instant::now() + shared.cancel_grace));
                drop(st);
                tracing::info!(%id, "cancel requested; cancelling the handler");
                cancel.fire(CancelReason::Requested);
            }
            Run::Waiting => {
                let Some(at) = st.waiting.iter().position(|j| j.lease == Some(lease)) else {
                    return;
                };
                let job = st.waiting.remove(at);
                let owned = st.remove(&lease).is_some();
                drop(st);
                cancel.fire(CancelReason::Requested);
                if let (Some(job), true) = (job, owned) {
                    tracing::info!(%id, "cancel requested before the job started; returned");
                    shared.send(vec![Settle {
                        lease,
                        job: Claimed::of(&job, kind),
                        outcome: Outcome::Cancelled,
                        ran: None,
                    }]);
                    shared.wake.notify_one();
                    shared.changed.notify_waiters();
                }
            }
        }
    }

    /// Stops the handlers whose grace ran out (those of jobs still held by that claim).
    pub fn stop_due(&mut self, shared: &Shared) {
        let now = Instant::now();
        let (due, later): (Vec<_>, Vec<_>) = self.stops.drain(..).partition(|(_, at)| *at <= now);
        self.stops = later;
        let st = shared.lock();
        for (lease, _) in due {
            if let Some(h) = st.held.get(&lease.id) {
                if h.lease.token == lease.token && matches!(h.run, Run::Started) {
                    tracing::warn!(id = %lease.id, "handler ignored a cancel request; stopped");
                    h.cancel.stop();
                }
            }
        }
    }
}
