//! How a backend tells idle workers that work may be ready.

use std::time::Duration;

use tokio::sync::watch;

/// The backend's side: call [`Notifier::notify`] whenever jobs may have become claimable
/// (an enqueue, a NOTIFY from the database, a Redis message…).
#[derive(Debug, Clone)]
pub struct Notifier {
    tx: watch::Sender<u64>,
}

impl Notifier {
    /// A notifier with no subscribers yet.
    pub fn new() -> Self {
        Notifier {
            tx: watch::Sender::new(0),
        }
    }

    /// Wakes every subscriber. Cheap, never blocks; repeated calls coalesce.
    pub fn notify(&self) {
        self.tx.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A new subscription that sees notifications sent from now on.
    pub fn subscribe(&self) -> Subscription {
        Subscription {
            rx: Some(self.tx.subscribe()),
        }
    }
}

impl Default for Notifier {
    fn default() -> Self {
        Self::new()
    }
}

/// The worker's side of a [`Notifier`]. A notification sent after [`Subscription::mark_seen`]
/// is never missed, so "check, then wait" has no lost wake-up.
#[derive(Debug)]
pub struct Subscription {
    rx: Option<watch::Receiver<u64>>,
}

impl Subscription {
    /// A subscription that is never notified: waits are pure polling.
    pub fn none() -> Self {
        Subscription { rx: None }
    }

    /// Forgets notifications received so far. Call it before looking for work.
    pub fn mark_seen(&mut self) {
        if let Some(rx) = &mut self.rx {
            rx.borrow_and_update();
        }
    }

    /// Waits for a notification newer than the last `mark_seen`, or `timeout`.
    /// Returns true when notified.
    pub async fn wait(&mut self, timeout: Duration) -> bool {
        match &mut self.rx {
            Some(rx) => match tokio::time::timeout(timeout, rx.changed()).await {
                Ok(Ok(())) => true,
                Ok(Err(_)) => {
                    // The backend dropped its notifier: fall back to polling.
                    self.rx = None;
                    tokio::time::sleep(timeout).await;
                    false
                }
                Err(_) => false,
            },
            None => {
                tokio::time::sleep(timeout).await;
                false
            }
        }
    }
}
