//! Shared by the SQL test files: where the servers are, fresh table names, cleanup.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use queue_core::{Backend, JobId};
use queue_sql::{SqlOptions, SqlQueue};
use queue_testkit::{Factory, Setup};

/// The Postgres the tests use: `DATABASE_URL`, else the local default.
pub fn pg_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

/// A table name no other test uses: `qt_` and a lowercase ULID.
pub fn fresh_table() -> String {
    format!("qt_{}", JobId::new().to_string().to_lowercase())
}

/// A pool on the test database; fails loudly when the server is missing.
pub async fn pg_pool(max: u32) -> sqlx::PgPool {
    let url = pg_url();
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(max)
        .connect(&url)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "Postgres is not reachable at {url}: {e}. Start it (or run `cargo xtask test`, \
                 which starts one), or set QUEUE_SKIP_SERVERS=1 to skip server tests."
            )
        })
}

/// Drops test tables left by runs that died before cleaning up (older than 30 minutes).
pub async fn sweep_stale_tables(pool: &sqlx::PgPool) {
    let stale: Vec<String> = sqlx::query_scalar(
        "SELECT substr(c.relname, 1, length(c.relname) - length('_migrations'))
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = current_schema() AND c.relkind = 'r'
           AND c.relname LIKE 'qt\\_%\\_migrations'",
    )
    .fetch_all(pool)
    .await
    .unwrap_or_default();
    for table in stale {
        let old: Option<bool> = sqlx::query_scalar(&format!(
            "SELECT max(applied_at) < now() - interval '30 minutes' FROM {table}_migrations"
        ))
        .fetch_one(pool)
        .await
        .ok()
        .flatten();
        if old == Some(true) {
            // The crate's own drop script, so the sweep drops whatever a migration adds.
            let drop = include_str!("../../sql/postgres/drop.sql").replace("{table}", &table);
            let _ = sqlx::raw_sql(&drop).execute(pool).await;
        }
    }
}

/// Gives each check its own table on the shared server, and drops them afterwards.
#[derive(Default)]
pub struct PgFactory {
    made: Mutex<Vec<SqlQueue>>,
}

impl PgFactory {
    /// A queue on `table` with its own pool, dropped at cleanup.
    async fn open(&self, table: String, setup: Setup) -> Arc<dyn Backend> {
        let pool = pg_pool(8).await;
        let opts = SqlOptions::default()
            .table(table)
            .lease_timeout(setup.lease_timeout)
            .retry(setup.retry);
        let q = SqlQueue::from_pg_pool(pool, opts)
            .await
            .expect("open queue");
        self.made.lock().unwrap().push(q.clone());
        Arc::new(q)
    }
}

#[async_trait]
impl Factory for PgFactory {
    async fn make(&self, setup: Setup) -> Arc<dyn Backend> {
        self.open(fresh_table(), setup).await
    }

    /// Two pools on one table, as two processes would have.
    async fn make_pair(&self, setup: Setup) -> [Arc<dyn Backend>; 2] {
        let table = fresh_table();
        let first = self.open(table.clone(), setup).await;
        [first, self.open(table, setup).await]
    }

    async fn cleanup(&self) {
        let made: Vec<SqlQueue> = std::mem::take(&mut *self.made.lock().unwrap());
        for q in made {
            let _ = q.drop_schema().await;
        }
    }
}
