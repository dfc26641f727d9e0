//! Versioned migrations, serialised across connections and processes by
//! `BEGIN IMMEDIATE`: the first opener takes the write lock and migrates, the others
//! wait for it and then find nothing left to do.

use queue_core::Result;
use sqlx::{Executor, SqliteConnection, SqlitePool};

use super::busy::{self, retry_busy};
use super::row::{db_err, now_us};
use super::sql::Sql;
use crate::classify::migration_failed;
use crate::BoxFuture;

/// Applies every migration not yet recorded, in one transaction.
pub(crate) async fn migrate(pool: &SqlitePool, sql: &Sql) -> Result<()> {
    let mut conn = retry_busy!(pool.acquire().await).map_err(db_err)?;
    busy::immediate(&mut conn, sql, apply).await
}

/// The body of the migration transaction (run again from the start if it comes back busy).
fn apply<'c>(conn: &'c mut SqliteConnection, sql: &'c Sql) -> BoxFuture<'c, Result<()>> {
    // An `async fn` boxed here, not an async block: sqlx's executor lifetimes otherwise
    // defeat the compiler's `Send` check of the boxed future.
    Box::pin(apply_inner(conn, sql))
}

/// See [`apply`].
async fn apply_inner(conn: &mut SqliteConnection, sql: &Sql) -> Result<()> {
    sqlx::query(&sql.migrations_table)
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    let applied: Vec<i64> = sqlx::query_scalar(&sql.migrations_applied)
        .fetch_all(&mut *conn)
        .await
        .map_err(db_err)?;
    for (version, script) in &sql.migrate {
        if applied.contains(version) {
            continue;
        }
        // A plain string runs as a script of several statements.
        conn.execute(script.as_str())
            .await
            .map_err(|e| migration_failed(*version, db_err(e)))?;
        sqlx::query(&sql.migrations_record)
            .bind(version)
            .bind(now_us())
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
    }
    Ok(())
}
