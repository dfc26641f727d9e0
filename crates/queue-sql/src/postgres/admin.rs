//! Admin changes: replay (a failed job back to pending, taking its unique key again when
//! it is free), run now, delete and purge.

use std::time::Duration;

use async_trait::async_trait;
use queue_core::{check_purge_state, list_limit, JobId, JobState, Replayable, Result, MAX_DELAY};
use sqlx::{Connection, PgConnection};

use super::row::db_err;
use super::sql::Sql;
use super::PgQueue;

/// SQLSTATE unique_violation.
const UNIQUE_VIOLATION: &str = "23505";

#[async_trait]
impl Replayable for PgQueue {
    async fn replay(&self, id: JobId) -> Result<bool> {
        let id = id.to_string();
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let replayed: Option<Option<String>> = sqlx::query_scalar(&self.sql.replay)
            .bind(&id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
        let Some(key) = replayed else {
            // Not a failed job: nothing changed, the transaction only ends.
            tx.rollback().await.map_err(db_err)?;
            return Ok(false);
        };
        if let Some(key) = key {
            retake_unique(&mut tx, &self.sql, &id, &key).await?;
        }
        // Other processes learn of it at commit, through NOTIFY; this one at once.
        sqlx::query(&self.sql.notify)
            .bind(&self.opts.table)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        self.notifier.notify();
        Ok(true)
    }

    /// Due now by the database clock. Idle workers of every process are woken through
    /// NOTIFY on the table's channel, as for an insert; this process's at once.
    async fn run_now(&self, id: JobId) -> Result<bool> {
        let moved = sqlx::query(&self.sql.run_now)
            .bind(id.to_string())
            .bind(&self.opts.table)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?
            .is_some();
        if moved {
            self.notifier.notify();
        }
        Ok(moved)
    }

    /// Also frees the unique key the job may still hold (a unique window that outlived
    /// the job): it goes with the row.
    async fn delete(&self, id: JobId) -> Result<bool> {
        let n = sqlx::query(&self.sql.delete)
            .bind(id.to_string())
            .execute(&self.pool)
            .await
            .map_err(db_err)?
            .rows_affected();
        Ok(n > 0)
    }

    /// Ages are measured on the database clock. Rows locked by a change in flight (a
    /// replay) are skipped, not waited for. Frees unique keys like
    /// [`Replayable::delete`].
    async fn purge(&self, state: JobState, older_than: Duration, limit: usize) -> Result<u64> {
        check_purge_state(state)?;
        // Capped so the interval stays one Postgres can hold; no job is that old.
        let older_than = older_than.min(MAX_DELAY).as_secs_f64();
        let limit = i64::try_from(list_limit(limit)).unwrap_or(i64::MAX);
        let n = sqlx::query(&self.sql.purge)
            .bind(state.as_str())
            .bind(older_than)
            .bind(limit)
            .execute(&self.pool)
            .await
            .map_err(db_err)?
            .rows_affected();
        Ok(n)
    }
}

/// Gives the job `id` its unique key back unless another job holds it, as a job held
/// its key until it failed. Inside a savepoint: when a concurrent enqueue wins the key,
/// only this step is undone and the replay goes on without the key.
async fn retake_unique(conn: &mut PgConnection, sql: &Sql, id: &str, key: &str) -> Result<()> {
    sqlx::query(&sql.free_unique)
        .bind([key])
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    let mut savepoint = conn.begin().await.map_err(db_err)?;
    let taken = sqlx::query(&sql.retake_unique)
        .bind(id)
        .bind(key)
        .execute(&mut *savepoint)
        .await;
    match taken {
        Ok(_) => savepoint.commit().await.map_err(db_err),
        Err(e)
            if e.as_database_error()
                .and_then(|db| db.code())
                .is_some_and(|c| c == UNIQUE_VIOLATION) =>
        {
            savepoint.rollback().await.map_err(db_err)
        }
        Err(e) => Err(db_err(e)),
    }
}
