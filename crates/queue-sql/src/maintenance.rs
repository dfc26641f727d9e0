//! Lease reclaim, retention pruning and compaction, on their own timer rather than before each claim.

use std::sync::Weak;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use queue_core::Result;

/// How often old completed, cancelled and failed jobs are pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(60);
/// At most one warning per this period while the database keeps failing.
const WARN_EVERY: Duration = Duration::from_secs(30);

/// What the timer asks of a dialect.
#[async_trait]
pub(crate) trait Maintain: Send + Sync + 'static {
    /// Returns expired leases to the queue (or fails them); how many.
    async fn reclaim_expired(&self) -> Result<u64>;
    /// Removes jobs past their retention; how many.
    async fn prune(&self) -> Result<u64>;
    /// Folds bookkeeping that every write appends to (Postgres's count changes).
    async fn compact(&self) -> Result<()> {
        Ok(())
    }
    /// The reclaim period now (follows lease-timeout changes).
    fn reclaim_every(&self) -> Duration;
    /// True once the queue is closed.
    fn is_closed(&self) -> bool;
}

/// Runs until the queue is closed or dropped.
pub(crate) fn spawn<M: Maintain>(target: Weak<M>) {
    tokio::spawn(async move {
        let mut last_prune = Instant::now();
        let mut last_warn: Option<Instant> = None;
        loop {
            let every = match target.upgrade() {
                Some(m) if !m.is_closed() => m.reclaim_every(),
                _ => return,
            };
            tokio::time::sleep(every).await;
            let Some(m) = target.upgrade() else { return };
            if m.is_closed() {
                return;
            }
            let mut result = m.reclaim_expired().await.map(|n| {
                if n > 0 {
                    tracing::info!(jobs = n, "reclaimed expired leases");
                }
            });
            if result.is_ok() {
                result = m.compact().await;
            }
            if result.is_ok() && last_prune.elapsed() >= PRUNE_EVERY {
                last_prune = Instant::now();
                result = m.prune().await.map(|n| {
                    if n > 0 {
                        tracing::debug!(jobs = n, "pruned old jobs");
                    }
                });
            }
            if let Err(e) = result {
                if last_warn.is_none_or(|t| t.elapsed() >= WARN_EVERY) {
                    last_warn = Some(Instant::now());
                    tracing::warn!(error = %queue_core::ErrorChain(&e), "queue maintenance failed; will retry");
                }
            }
        }
    });
}
