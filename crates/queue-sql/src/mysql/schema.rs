//! Versioned migrations, safe when several processes start at once.

use queue_core::{QueueError, Result};
use sqlx::pool::PoolConnection;
use sqlx::{Executor, MySql, MySqlPool};

use super::row::db_err;
use super::sql::Sql;
use crate::classify::migration_failed;
use crate::BoxFuture;

/// The named lock every queue's migrations take (`GET_LOCK` is per server, not per
/// table): DDL commits at once in MySQL, so a transaction cannot keep two starters apart.
const LOCK: &str = "queue-migrate";
/// How long a start waits for another's migrations, in seconds.
const LOCK_WAIT_S: i32 = 60;

/// Applies every missing migration while holding the migration lock.
pub(super) fn migrate<'a>(pool: &'a MySqlPool, sql: &'a Sql) -> BoxFuture<'a, Result<()>> {
    // Boxed as `Send` here: sqlx's executor lifetimes otherwise defeat the Send check of
    // callers that spawn this future.
    Box::pin(migrate_inner(pool, sql))
}

async fn migrate_inner(pool: &MySqlPool, sql: &Sql) -> Result<()> {
    let mut conn = pool.acquire().await.map_err(db_err)?;
    let got: Option<i32> = sqlx::query_scalar("SELECT GET_LOCK(?, ?)")
        .bind(LOCK)
        .bind(LOCK_WAIT_S)
        .fetch_one(&mut *conn)
        .await
        .map_err(db_err)?;
    if got != Some(1) {
        return Err(QueueError::Backend(
            format!("another process held the migration lock for {LOCK_WAIT_S} s").into(),
        ));
    }
    let result = apply(&mut conn, sql).await;
    // The lock also ends with the connection, should this fail.
    let released = sqlx::query("SELECT RELEASE_LOCK(?)")
        .bind(LOCK)
        .execute(&mut *conn)
        .await
        .map_err(db_err);
    result.and(released.map(|_| ()))
}

async fn apply(conn: &mut PoolConnection<MySql>, sql: &Sql) -> Result<()> {
    (&mut **conn)
        .execute(sql.migrations_table.as_str())
        .await
        .map_err(db_err)?;
    let applied: Vec<i32> = sqlx::query_scalar(&sql.migrations_applied)
        .fetch_all(&mut **conn)
        .await
        .map_err(db_err)?;
    for (version, script) in &sql.migrate {
        if applied.contains(version) {
            continue;
        }
        // A plain string goes over the text protocol, which runs several statements.
        (&mut **conn)
            .execute(script.as_str())
            .await
            .map_err(|e| migration_failed(*version, db_err(e)))?;
        sqlx::query(&sql.migrations_record)
            .bind(version)
            .execute(&mut **conn)
            .await
            .map_err(db_err)?;
    }
    Ok(())
}
