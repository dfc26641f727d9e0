//! Kinds paused in the database (see sql/mysql/migrate_1.sql): every claim of every
//! process skips them.

use queue_core::{validate_kind, Result};

use super::row::{db_err, text};
use super::MySqlQueue;

impl MySqlQueue {
    /// Stores the pause of `kind`.
    pub(super) async fn pause(&self, kind: &str) -> Result<()> {
        validate_kind(kind)?;
        sqlx::query(&self.sql.pause)
            .bind(kind)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    /// Removes the pause of `kind` and wakes this process's idle workers; those of other
    /// processes within a second (see `watch`).
    pub(super) async fn resume(&self, kind: &str) -> Result<()> {
        validate_kind(kind)?;
        sqlx::query(&self.sql.resume)
            .bind(kind)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        // The kind's jobs may lie before where this process's claims would resume.
        self.resume.forget_all();
        self.notifier.notify();
        self.wake_others().await;
        Ok(())
    }

    /// The paused kinds, sorted.
    pub(super) async fn paused(&self) -> Result<Vec<String>> {
        let rows = sqlx::query(&self.sql.paused)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                text(r, 0).map_err(|reason| queue_core::QueueError::Corrupt { id: None, reason })
            })
            .collect()
    }
}
