//! Wake-ups: scripts PUBLISH on `{name}:wake` after enqueue, replay, reclaim and
//! promotion; a subscriber connection per queue turns each message (and each reconnect,
//! since messages are lost while disconnected) into a [`Notifier`] notification.
//!
//! The cancel script publishes `cancel <id>` on the same channel for a running job; such
//! a message goes to the [`CancelNotifier`] instead.

use fred::clients::SubscriberClient;
use fred::prelude::Value;
use fred::prelude::{Client, ClientLike, EventInterface, PubsubInterface};
use queue_core::{CancelNotifier, JobId, Notifier, QueueError, Result};
use tokio::sync::broadcast::error::RecvError;
use tokio::task::JoinHandle;

/// The subscriber connection and the task that listens on it. Dropping it stops both.
pub(crate) struct Listener {
    client: SubscriberClient,
    task: JoinHandle<()>,
}

/// The payload prefix of a cancel request; the job id follows.
const CANCEL_PREFIX: &str = "cancel ";

/// Opens a subscriber connection with `like`'s configuration and listens on `channel`:
/// wake-ups go to `notifier`, cancel requests to `cancels`.
pub(crate) async fn listen(
    like: &Client,
    channel: String,
    notifier: Notifier,
    cancels: CancelNotifier,
) -> Result<Listener> {
    let client = SubscriberClient::new(
        like.client_config(),
        Some(like.perf_config()),
        Some(like.connection_config().clone()),
        like.client_reconnect_policy(),
    );
    client.init().await.map_err(QueueError::backend)?;
    // Re-subscribes after every reconnect.
    let _resubscribe = client.manage_subscriptions();
    client
        .subscribe(channel)
        .await
        .map_err(QueueError::backend)?;
    let mut messages = client.message_rx();
    let mut reconnects = client.reconnect_rx();
    let task = tokio::spawn(async move {
        loop {
            let r = tokio::select! {
                m = messages.recv() => match m {
                    Ok(m) => match cancel_of(&m.value) {
                        Some(id) => {
                            cancels.notify(id);
                            continue;
                        }
                        None => Ok(()),
                    },
                    Err(e) => Err(e),
                },
                r = reconnects.recv() => r.map(|_| ()),
            };
            match r {
                Ok(()) | Err(RecvError::Lagged(_)) => notifier.notify(),
                Err(RecvError::Closed) => return,
            }
        }
    });
    Ok(Listener { client, task })
}

/// The job id of a cancel request message.
fn cancel_of(payload: &Value) -> Option<JobId> {
    let text = payload.as_str()?;
    text.strip_prefix(CANCEL_PREFIX)?.parse().ok()
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.task.abort();
        let client = self.client.clone();
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                let _ = client.quit().await;
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cancel_messages_name_a_job() {
        let id = JobId::new();
        let msg = Value::from(format!("cancel {id}"));
        assert_eq!(cancel_of(&msg), Some(id));
        assert_eq!(cancel_of(&Value::from("")), None, "a wake-up");
        assert_eq!(cancel_of(&Value::from("cancel nonsense")), None);
    }
}
