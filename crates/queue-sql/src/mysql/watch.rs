//! Wake-ups from other processes. MySQL has no NOTIFY; instead each queue reads the
//! newest job id and the wake counter (watch.sql) every [`EVERY`], and wakes its idle
//! workers when either changed: another process's enqueue, run now, resume, replay or
//! reclaim. Writes through the queue in this process wake its workers directly.

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use queue_core::{QueueError, Result};

use super::row::{db_err, text_opt};
use super::MySqlQueue;
use crate::maintenance::Maintain;

/// How often the watch reads: the longest an idle worker of another process waits for a
/// new job, against one query per tick while idle.
pub(super) const EVERY: Duration = Duration::from_secs(1);
/// At most one warning per this period while the reads keep failing.
const WARN_EVERY: Duration = Duration::from_secs(30);

/// What the watch compares between ticks.
type Seen = (Option<String>, Option<i64>);

impl MySqlQueue {
    async fn seen(&self) -> Result<Seen> {
        let row = sqlx::query(&self.sql.watch)
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
        let newest =
            text_opt(&row, 0).map_err(|reason| QueueError::Corrupt { id: None, reason })?;
        let wakes: Option<i64> = sqlx::Row::try_get(&row, 1).map_err(db_err)?;
        Ok((newest, wakes))
    }

    /// Tells the watches of other processes that jobs may have become due. A failure
    /// costs them only the wait until their workers' next poll.
    pub(super) async fn wake_others(&self) {
        if let Err(e) = sqlx::query(&self.sql.wake).execute(&self.pool).await {
            tracing::debug!(error = %queue_core::ErrorChain(&e), "could not raise the wake counter");
        }
    }
}

/// Reads once, then watches in a task that ends when the queue is closed or dropped
/// (the task holds the queue only for the length of one read).
pub(super) async fn spawn(q: &Arc<MySqlQueue>) -> Result<()> {
    let first = q.seen().await?;
    tokio::spawn(run(Arc::downgrade(q), first));
    Ok(())
}

/// The watching task.
async fn run(target: Weak<MySqlQueue>, mut last: Seen) {
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_warn: Option<Instant> = None;
    loop {
        tick.tick().await;
        let Some(q) = target.upgrade() else { return };
        if q.is_closed() {
            return;
        }
        match q.seen().await {
            Ok(now) if now != last => {
                last = now;
                q.notifier.notify();
            }
            Ok(_) => {}
            Err(e) => {
                if last_warn.is_none_or(|t| t.elapsed() >= WARN_EVERY) {
                    last_warn = Some(Instant::now());
                    tracing::warn!(error = %queue_core::ErrorChain(&e), "watching for other processes' jobs failed; will retry");
                }
            }
        }
    }
}
