//! The Postgres baseline: multi-row inserts into a two-column table, and connections
//! deleting the oldest unlocked rows 100 at a time.

use std::time::Instant;

use async_trait::async_trait;
use sqlx::postgres::{PgPool, PgPoolOptions};

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
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/sql/postgres/", $file))
    };
}

/// A pool on the benchmark's Postgres server.
pub struct PgRaw {
    pool: PgPool,
}

impl PgRaw {
    /// Connects to `url`.
    pub async fn connect(url: &str) -> Result<Self, Error> {
        let pool = PgPoolOptions::new()
            .max_connections(CONNECTIONS)
            .connect(url)
            .await?;
        Ok(PgRaw { pool })
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
        let sql = render(load!("insert.sql"), table);
        in_chunks(n, in_flight, |_, len| {
            let (pool, sql) = (self.pool.clone(), sql.clone());
            async move {
                sqlx::query(&sql)
                    .bind(vec![PAYLOAD; len])
                    .execute(&pool)
                    .await?;
                Ok(())
            }
        })
        .await
    }

    async fn drain_all(&self, table: &str) -> Result<usize, Error> {
        let sql = render(load!("drain.sql"), table);
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..CONNECTIONS {
            let (pool, sql) = (self.pool.clone(), sql.clone());
            tasks.spawn(async move {
                let mut conn = pool.acquire().await?;
                let mut drained = 0;
                loop {
                    // An empty answer means every row left is gone or held by another
                    // connection, which deletes it.
                    let rows: Vec<(i64, String)> =
                        sqlx::query_as(&sql).fetch_all(&mut *conn).await?;
                    if rows.is_empty() {
                        return Ok::<usize, Error>(drained);
                    }
                    debug_assert!(rows.len() <= CLAIM);
                    drained += rows.len();
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

#[async_trait]
impl RawBaseline for PgRaw {
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
                check_drained("Postgres", drained, n)?;
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
