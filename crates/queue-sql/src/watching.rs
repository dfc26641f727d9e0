//! The polling watch of the dialects without NOTIFY (SQLite, MySQL): a task reads a cheap
//! marker of other processes' writes every tick and wakes this process's idle workers
//! when it changed. The task holds its queue only for the length of one read, and ends
//! when the queue is closed or dropped.

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use queue_core::Result;

use crate::maintenance::Maintain;

/// At most one warning per this period while the reads keep failing.
const WARN_EVERY: Duration = Duration::from_secs(30);

/// A queue with a marker to watch.
#[async_trait]
pub(crate) trait Watched: Maintain {
    /// What is compared between ticks.
    type Seen: PartialEq + Send + 'static;
    /// How often the marker is read: the longest an idle worker of another process
    /// waits for a new job, against one read per tick.
    const EVERY: Duration;
    /// Reads the marker.
    async fn seen(&self) -> Result<Self::Seen>;
    /// Wakes this process's idle workers.
    fn wake(&self);
}

/// Reads the marker once, then watches it in a task of its own.
pub(crate) async fn spawn<W: Watched>(q: &Arc<W>) -> Result<()> {
    let first = q.seen().await?;
    tokio::spawn(run(Arc::downgrade(q), first));
    Ok(())
}

/// The watching task.
async fn run<W: Watched>(target: Weak<W>, mut last: W::Seen) {
    let mut tick = tokio::time::interval(W::EVERY);
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
                q.wake();
            }
            Ok(_) => {}
            Err(e) => {
                if last_warn.is_none_or(|t| t.elapsed() >= WARN_EVERY) {
                    last_warn = Some(Instant::now());
                    tracing::warn!(error = %queue_core::ErrorChain(&e), "watching for other processes' jobs failed; will retry");
                }
                // `last` stays: the first read that works again tells whether writes
                // were missed meanwhile.
            }
        }
    }
}
