//! Deadlocks and lock-wait timeouts are retried here, never handed to the worker as
//! failures. InnoDB picks a victim when two transactions wait for each other (claims,
//! acks, reclaim and enqueues with unique keys touch rows and index gaps in different
//! orders); the victim's work is rolled back and simply runs again.

use std::future::Future;
use std::time::Duration;

use queue_core::{QueueError, Result};

use super::row::is_lock_conflict;

/// Runs of one operation before a conflict is reported after all.
const MAX_RUNS: u32 = 10;

/// Runs `op` again while it fails with a lock conflict, after a short random pause that
/// grows with each run, so the transactions that collided do not collide again.
pub(super) async fn on_conflict<T, F, Fut>(mut op: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let mut run = 1;
    loop {
        match op().await {
            Err(e) if run < MAX_RUNS && is_conflict(&e) => {
                tracing::debug!(run, error = %queue_core::ErrorChain(&e), "lock conflict; running again");
                let ms = u64::from(run * run).min(100);
                tokio::time::sleep(Duration::from_micros(fastrand::u64(0..=ms * 1_000))).await;
                run += 1;
            }
            other => return other,
        }
    }
}

/// Whether the database error behind `e` is a deadlock or a lock-wait timeout.
fn is_conflict(e: &QueueError) -> bool {
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        if let Some(e) = c.downcast_ref::<sqlx::Error>() {
            return is_lock_conflict(e);
        }
        cause = c.source();
    }
    false
}
