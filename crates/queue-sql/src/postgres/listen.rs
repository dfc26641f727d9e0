//! LISTEN on the table's channel and wake idle workers; reconnects on its own.

use std::sync::Arc;
use std::time::Duration;

use queue_core::{Notifier, QueueError, Result};
use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tokio::sync::Notify;

/// Starts listening before returning, so no insert after construction is missed.
pub(crate) async fn spawn(
    pool: PgPool,
    channel: String,
    notifier: Notifier,
    stop: Arc<Notify>,
) -> Result<()> {
    let mut listener = PgListener::connect_with(&pool)
        .await
        .map_err(QueueError::backend)?;
    listener
        .listen(&channel)
        .await
        .map_err(QueueError::backend)?;
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = stop.notified() => return,
                r = listener.recv() => match r {
                    Ok(_) => notifier.notify(),
                    Err(e) => {
                        // PgListener reconnects and re-subscribes on the next recv; work
                        // inserted meanwhile is found by the poll we trigger here.
                        tracing::warn!(error = %e, "LISTEN connection lost; reconnecting");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        notifier.notify();
                    }
                },
            }
        }
    });
    Ok(())
}
