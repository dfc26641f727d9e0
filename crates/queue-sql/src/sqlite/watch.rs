//! Wake-ups from other processes. SQLite has no NOTIFY; instead the writer's connection
//! reads `PRAGMA data_version` every [`EVERY`], which changes only when another
//! connection committed: another process's enqueue (or any of its writes), or a caller's
//! own transaction in this process. Writes made through the queue in this process wake
//! its workers directly and leave the counter alone, so an idle process pays one cheap
//! read per tick and its workers wake only when the file really changed.

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use queue_core::Result;

use super::busy::retry_busy;
use super::row::db_err;
use super::SqliteQueue;
use crate::maintenance::Maintain;

/// How often the counter is read: the longest a worker of another process waits for a
/// new job, against one read per tick while idle.
pub(crate) const EVERY: Duration = Duration::from_millis(25);
/// At most one warning per this period while the reads keep failing.
const WARN_EVERY: Duration = Duration::from_secs(30);

impl SqliteQueue {
    /// The writer connection's `data_version`.
    async fn data_version(&self) -> Result<i64> {
        let mut turn = self.write_turn().await?;
        let r = retry_busy!(
            sqlx::query_scalar(&self.sql.data_version)
                .fetch_one(&mut *turn)
                .await
        );
        self.writer.checked(r.map_err(db_err))
    }
}

/// Reads the counter once, then watches it in a task that ends when the queue is closed
/// or dropped (the task holds the queue only for the length of one read).
pub(crate) async fn spawn(q: &Arc<SqliteQueue>) -> Result<()> {
    let first = q.data_version().await?;
    tokio::spawn(run(Arc::downgrade(q), first));
    Ok(())
}

/// The watching task.
async fn run(target: Weak<SqliteQueue>, mut last: i64) {
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_warn: Option<Instant> = None;
    loop {
        tick.tick().await;
        let Some(q) = target.upgrade() else { return };
        if q.is_closed() {
            return;
        }
        match q.data_version().await {
            Ok(v) if v != last => {
                last = v;
                q.notifier.notify();
            }
            Ok(_) => {}
            Err(e) => {
                if last_warn.is_none_or(|t| t.elapsed() >= WARN_EVERY) {
                    last_warn = Some(Instant::now());
                    tracing::warn!(error = %queue_core::ErrorChain(&e), "watching the SQLite file for other processes' jobs failed; will retry");
                }
                // `last` stays: the first read that works again tells whether commits
                // were missed meanwhile.
            }
        }
    }
}
