//! Versioned migrations, safe when several processes start at once.

use queue_core::Result;
use sqlx::{Connection, Executor, PgPool};

use super::row::db_err;
use super::sql::Sql;
use crate::classify::migration_failed;
use crate::BoxFuture;

/// Applies every missing migration under a transaction-scoped advisory lock, so concurrent
/// starters wait for each other instead of racing DDL. One lock for every table, because
/// the notification function is shared between them.
pub(crate) fn migrate<'a>(
    pool: &'a PgPool,
    table: &'a str,
    sql: &'a Sql,
) -> BoxFuture<'a, Result<()>> {
    // Boxed as `Send` here: sqlx's executor lifetimes otherwise defeat the Send check of
    // callers that spawn this future.
    Box::pin(migrate_inner(pool, table, sql))
}

async fn migrate_inner(pool: &PgPool, table: &str, sql: &Sql) -> Result<()> {
    let mut conn = pool.acquire().await.map_err(db_err)?;
    let mut tx = conn.begin().await.map_err(db_err)?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
        .bind("queue-migrate")
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    sqlx::query(&sql.migrations_table)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    let applied: Vec<i32> = sqlx::query_scalar(&format!("SELECT version FROM {table}_migrations"))
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
    for (version, script) in &sql.migrate {
        if applied.contains(version) {
            continue;
        }
        // A plain string runs over the simple protocol, which allows several statements.
        (&mut *tx)
            .execute(script.as_str())
            .await
            .map_err(|e| migration_failed(*version, db_err(e)))?;
        sqlx::query(&format!(
            "INSERT INTO {table}_migrations (version) VALUES ($1)"
        ))
        .bind(version)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    }
    tx.commit().await.map_err(db_err)
}
