//! The MySQL / MariaDB baseline: multi-row inserts into a two-column table, and
//! connections each claiming the oldest unlocked rows 100 at a time (`FOR UPDATE SKIP
//! LOCKED`) and deleting them in the same transaction. MySQL cannot delete from a table
//! it selects from in a subquery, so a claim takes two statements here; and InnoDB now
//! and then picks one of two neighbouring claims as a deadlock's victim, which is
//! claimed again, as any client of it must.

use std::time::Instant;

use async_trait::async_trait;
use sqlx::mysql::{MySqlConnection, MySqlPool, MySqlPoolOptions};

use super::{check_drained, fresh_name, render, RawBaseline, CLAIM, PAYLOAD};
use crate::chunks::in_chunks;
use crate::Error;

/// Connections draining at once: the pool `SqlQueue::connect` builds, which is what the
/// worker's claims and acks share.
const CONNECTIONS: u32 = 10;

/// Insert statements in flight while filling a table for a drain (untimed).
const FILL_IN_FLIGHT: usize = 4;

macro_rules! load {
    ($file:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/sql/mysql/", $file))
    };
}

/// A pool on the benchmark's MySQL or MariaDB server.
pub struct MySqlRaw {
    pool: MySqlPool,
}

impl MySqlRaw {
    /// Connects to `url`.
    pub async fn connect(url: &str) -> Result<Self, Error> {
        let pool = MySqlPoolOptions::new()
            .max_connections(CONNECTIONS)
            .after_connect(|conn, _| {
                Box::pin(async move {
                    sqlx::query(load!("session.sql")).execute(conn).await?;
                    Ok(())
                })
            })
            .connect(url)
            .await?;
        Ok(MySqlRaw { pool })
    }

    /// Runs `body` on a fresh table, dropping the table afterwards whatever happened.
    async fn with_table<T>(
        &self,
        body: impl std::future::Future<Output = Result<T, Error>>,
        table: &str,
    ) -> Result<T, Error> {
        sqlx::query(&render(load!("create.sql"), table))
            .execute(&self.pool)
            .await?;
        let out = body.await;
        let dropped = sqlx::query(&render(load!("drop.sql"), table))
            .execute(&self.pool)
            .await;
        // The body's own failure is the one worth reporting.
        let value = out?;
        dropped?;
        Ok(value)
    }

    async fn fill(&self, table: &str, n: usize, in_flight: usize) -> Result<(), Error> {
        let insert = render(load!("insert.sql"), table);
        in_chunks(n, in_flight, |_, len| {
            let sql = insert.replace("{rows}", &vec!["(?)"; len].join(", "));
            let pool = self.pool.clone();
            async move {
                let mut q = sqlx::query(&sql);
                for _ in 0..len {
                    q = q.bind(PAYLOAD);
                }
                q.execute(&pool).await?;
                Ok(())
            }
        })
        .await
    }

    async fn drain_all(&self, table: &str) -> Result<usize, Error> {
        let claim = render(load!("claim.sql"), table);
        let delete = render(load!("delete.sql"), table);
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..CONNECTIONS {
            let (pool, claim, delete) = (self.pool.clone(), claim.clone(), delete.clone());
            tasks.spawn(async move {
                let mut conn = pool.acquire().await?;
                let mut drained = 0;
                loop {
                    match claim_and_delete(&mut conn, &claim, &delete).await {
                        // Every row left is gone or held by another connection, which
                        // deletes it.
                        Ok(None) => return Ok::<usize, Error>(drained),
                        Ok(Some(n)) => drained += n,
                        // InnoDB picked this transaction as a deadlock's victim and
                        // rolled it back: its rows are free again, to be claimed anew.
                        Err(e) if is_deadlock(&e) => {}
                        Err(e) => return Err(e.into()),
                    }
                }
            });
        }
        let mut drained = 0;
        while let Some(done) = tasks.join_next().await {
            drained += done??;
        }
        Ok(drained)
    }
}

/// One transaction: claims up to [`CLAIM`] of the oldest unlocked rows and deletes them;
/// the rows deleted, or `None` when none was left to claim.
async fn claim_and_delete(
    conn: &mut MySqlConnection,
    claim: &str,
    delete: &str,
) -> Result<Option<usize>, sqlx::Error> {
    let mut tx = sqlx::Connection::begin(conn).await?;
    // Bytes: MariaDB's JSON is a LONGTEXT with a binary collation, which sqlx will not
    // decode as a String.
    let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as(claim).fetch_all(&mut *tx).await?;
    if rows.is_empty() {
        tx.commit().await?;
        return Ok(None);
    }
    debug_assert!(rows.len() <= CLAIM);
    let sql = delete.replace("{ids}", &vec!["?"; rows.len()].join(", "));
    let mut q = sqlx::query(&sql);
    for (id, _) in &rows {
        q = q.bind(id);
    }
    let deleted = q.execute(&mut *tx).await?.rows_affected();
    tx.commit().await?;
    Ok(Some(usize::try_from(deleted).unwrap_or(usize::MAX)))
}

/// Whether `e` is InnoDB's "deadlock found" (error 1213, SQLSTATE 40001).
fn is_deadlock(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.code())
        .is_some_and(|code| code == "40001")
}

#[async_trait]
impl RawBaseline for MySqlRaw {
    async fn version(&self) -> Result<String, Error> {
        let (v,): (String,) = sqlx::query_as(load!("version.sql"))
            .fetch_one(&self.pool)
            .await?;
        Ok(v)
    }

    async fn enqueue(&self, n: usize) -> Result<f64, Error> {
        let table = fresh_name();
        self.with_table(
            async {
                let t0 = Instant::now();
                self.fill(&table, n, 1).await?;
                Ok(n as f64 / t0.elapsed().as_secs_f64())
            },
            &table,
        )
        .await
    }

    async fn drain(&self, n: usize) -> Result<f64, Error> {
        let table = fresh_name();
        self.with_table(
            async {
                self.fill(&table, n, FILL_IN_FLIGHT).await?;
                let t0 = Instant::now();
                let drained = self.drain_all(&table).await?;
                let rate = n as f64 / t0.elapsed().as_secs_f64();
                check_drained("MySQL", drained, n)?;
                Ok(rate)
            },
            &table,
        )
        .await
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Whether MySQL tests are left out: `QUEUE_SKIP_SERVERS=1` and no `MYSQL_URL`, as
    /// `cargo xtask test` runs this crate's tests on a machine without the servers.
    fn skipped() -> bool {
        let skip = std::env::var("QUEUE_SKIP_SERVERS").is_ok_and(|v| v == "1");
        skip && std::env::var_os("MYSQL_URL").is_none()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn fills_and_drains_every_row_then_drops_its_tables() {
        if skipped() {
            return;
        }
        let url = crate::backends::mysql_url();
        let raw = MySqlRaw::connect(&url).await.unwrap_or_else(|e| {
            panic!(
                "MySQL is not reachable at {url}: {e}. Start it (or run `cargo xtask test`, \
                 which starts one), or set QUEUE_SKIP_SERVERS=1 to skip server tests."
            )
        });
        assert!(!raw.version().await.unwrap().is_empty());
        // Not a multiple of the claim size, and more rows than one fill chunk.
        assert!(raw.enqueue(2_550).await.unwrap() > 0.0);
        assert!(raw.drain(2_550).await.unwrap() > 0.0);

        // A failed measurement drops its table too.
        let table = fresh_name();
        let failed: Result<(), Error> = raw
            .with_table(
                async {
                    raw.fill(&table, 10, 1).await?;
                    Err("failed on purpose".into())
                },
                &table,
            )
            .await;
        assert_eq!(failed.unwrap_err().to_string(), "failed on purpose");
        let (left,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM information_schema.tables \
             WHERE table_schema = DATABASE() AND table_name = ?",
        )
        .bind(&table)
        .fetch_one(&raw.pool)
        .await
        .unwrap();
        assert_eq!(left, 0, "{table} was left behind");
        raw.close().await;
    }
}
