//! Cancelling a job that may be running: what [`Queue::cancel`](crate::Queue::cancel)
//! did, what a heartbeat learned of each lease, and how a backend tells workers at once
//! that a job they hold should stop.

use tokio::sync::broadcast;

use crate::JobId;

/// What [`Queue::cancel`](crate::Queue::cancel) did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CancelOutcome {
    /// The job was pending: it is `cancelled` now and will never run.
    Cancelled,
    /// The job is running: a cancel request is recorded on it (see
    /// [`Job::cancel_requested`](crate::Job::cancel_requested)) and the worker holding it
    /// is told. Unless its handler succeeds anyway, the job ends `cancelled`.
    Requested,
    /// Nothing changed: the job is unknown, or already finished.
    Unchanged,
}

impl CancelOutcome {
    /// Whether the job was cancelled or will be (a request was recorded).
    pub fn is_accepted(self) -> bool {
        !matches!(self, CancelOutcome::Unchanged)
    }
}

/// What a heartbeat found for one lease (see [`Queue::heartbeat`](crate::Queue::heartbeat)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LeaseStatus {
    /// Still held; extended.
    Held,
    /// No longer held (reclaimed, settled, or claimed again): the job must stop.
    Lost,
    /// Still held and extended, but someone asked for the job to be cancelled.
    CancelRequested,
}

impl LeaseStatus {
    /// Whether the lease is still held (and was extended).
    pub fn is_held(self) -> bool {
        !matches!(self, LeaseStatus::Lost)
    }
}

/// How many requests a slow listener may fall behind before it misses some. A missed
/// request is still found by the next heartbeat.
const BACKLOG: usize = 1024;

/// The backend's side: announces, by job id, cancel requests recorded on running jobs.
#[derive(Debug, Clone)]
pub struct CancelNotifier {
    tx: broadcast::Sender<JobId>,
}

impl CancelNotifier {
    /// A notifier with no listeners yet.
    pub fn new() -> Self {
        CancelNotifier {
            tx: broadcast::Sender::new(BACKLOG),
        }
    }

    /// Tells every listener that `id` should be cancelled. Never blocks; with no
    /// listener it does nothing.
    pub fn notify(&self, id: JobId) {
        let _ = self.tx.send(id);
    }

    /// A listener for requests announced from now on.
    pub fn listen(&self) -> CancelRequests {
        CancelRequests {
            rx: Some(self.tx.subscribe()),
        }
    }
}

impl Default for CancelNotifier {
    fn default() -> Self {
        Self::new()
    }
}

/// The worker's side of a [`CancelNotifier`]: ids of jobs someone asked to cancel.
///
/// Best effort: a request may be missed (a lagging listener, a dropped connection), so
/// workers also learn of requests through their heartbeats.
#[derive(Debug)]
pub struct CancelRequests {
    rx: Option<broadcast::Receiver<JobId>>,
}

impl CancelRequests {
    /// Listens to nothing: [`CancelRequests::next`] never returns.
    pub fn none() -> Self {
        CancelRequests { rx: None }
    }

    /// The next requested id. Waits forever once the backend stops announcing.
    pub async fn next(&mut self) -> JobId {
        loop {
            let Some(rx) = &mut self.rx else {
                return std::future::pending().await;
            };
            match rx.recv().await {
                Ok(id) => return id,
                // Missed ones are left to the heartbeat.
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => self.rx = None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn listeners_hear_requests_sent_after_they_listen() {
        let notifier = CancelNotifier::new();
        notifier.notify(JobId::new());
        let mut requests = notifier.listen();
        let id = JobId::new();
        notifier.notify(id);
        assert_eq!(requests.next().await, id);
    }
}
