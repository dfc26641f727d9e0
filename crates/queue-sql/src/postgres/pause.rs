//! Kinds paused in the database (see sql/postgres/migrate_4.sql): every claim of every
//! process skips them.

use queue_core::{validate_kind, Result};

use super::row::db_err;
use super::PgQueue;

impl PgQueue {
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

    /// Removes the pause of `kind` and wakes every process's idle workers (NOTIFY on the
    /// table's channel, and this process's at once).
    pub(super) async fn resume(&self, kind: &str) -> Result<()> {
        validate_kind(kind)?;
        sqlx::query(&self.sql.resume)
            .bind(kind)
            .bind(&self.opts.table)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        // The kind's jobs may lie before where this process's claims would resume.
        self.resume.forget_all();
        self.notifier.notify();
        Ok(())
    }

    /// The paused kinds, sorted.
    pub(super) async fn paused(&self) -> Result<Vec<String>> {
        sqlx::query_scalar(&self.sql.paused)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)
    }
}
