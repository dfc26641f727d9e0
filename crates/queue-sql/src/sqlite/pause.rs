//! Kinds paused in the database (see sql/sqlite/migrate_3.sql): every claim of every
//! process skips them.

use queue_core::{validate_kind, Result};

use super::busy::retry_busy;
use super::row::{db_err, now_us};
use super::SqliteQueue;

impl SqliteQueue {
    /// Stores the pause of `kind`.
    pub(super) async fn pause(&self, kind: &str) -> Result<()> {
        validate_kind(kind)?;
        let mut turn = self.write_turn().await?;
        let r = retry_busy!(
            sqlx::query(&self.sql.pause)
                .bind(kind)
                .bind(now_us())
                .execute(&mut *turn)
                .await
        );
        self.writer.checked(r.map_err(db_err))?;
        Ok(())
    }

    /// Removes the pause of `kind` and wakes this process's idle workers; other
    /// processes notice the commit through their watch.
    pub(super) async fn resume(&self, kind: &str) -> Result<()> {
        validate_kind(kind)?;
        let mut turn = self.write_turn().await?;
        let r = retry_busy!(
            sqlx::query(&self.sql.resume)
                .bind(kind)
                .execute(&mut *turn)
                .await
        );
        self.writer.checked(r.map_err(db_err))?;
        drop(turn);
        self.notifier.notify();
        Ok(())
    }

    /// The paused kinds, sorted.
    pub(super) async fn paused(&self) -> Result<Vec<String>> {
        retry_busy!(
            sqlx::query_scalar(&self.sql.paused)
                .fetch_all(&self.pool)
                .await
        )
        .map_err(db_err)
    }
}
