//! Replay: a failed job back to pending, taking its unique key again when it is free.

use async_trait::async_trait;
use queue_core::{JobId, Replayable, Result};
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
