//! Versioned migrations, serialised across processes by `BEGIN IMMEDIATE`.

use queue_core::Result;
use sqlx::{Executor, SqliteConnection, SqlitePool};

use super::busy::retry_busy;
use super::row::{db_err, to_us};
use super::sql::Sql;
use crate::BoxFuture;

/// Applies every missing migration in one immediate transaction: the first opener takes
/// the write lock, the others wait (busy timeout) and then find nothing to do.
pub(crate) fn migrate<'a>(
    pool: &'a SqlitePool,
    table: &'a str,
    sql: &'a Sql,
) -> BoxFuture<'a, Result<()>> {
    Box::pin(async move {
        let mut conn = pool.acquire().await.map_err(db_err)?;
        retry_busy!(conn.execute("BEGIN IMMEDIATE").await).map_err(db_err)?;
        let result = apply(&mut conn, table, sql).await;
        let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
        let ended = conn.execute(end).await;
        result?;
        ended.map(|_| ()).map_err(db_err)
    })
}

async fn apply(conn: &mut SqliteConnection, table: &str, sql: &Sql) -> Result<()> {
    conn.execute(sql.migrations_table.as_str())
        .await
        .map_err(db_err)?;
    let applied: Vec<i64> = sqlx::query_scalar(&format!("SELECT version FROM {table}_migrations"))
        .fetch_all(&mut *conn)
        .await
        .map_err(db_err)?;
    for (version, script) in &sql.migrate {
        if applied.contains(version) {
            continue;
        }
        conn.execute(script.as_str()).await.map_err(db_err)?;
        sqlx::query(&format!(
            "INSERT INTO {table}_migrations (version, applied_at) VALUES (?1, ?2)"
        ))
        .bind(version)
        .bind(to_us(time::OffsetDateTime::now_utc()))
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    }
    Ok(())
}
