//! Raw baselines: the same work done on the same server with the least a queue could do,
//! so each figure of the queue reads as a share of what the server allows.
//!
//! Each measurement uses a table (or key prefix) of its own, with a random suffix, and
//! removes it afterwards, also when it fails.

mod mysql;
mod postgres;
mod redis;
mod sqlite;

use async_trait::async_trait;

pub use mysql::MySqlRaw;
pub use postgres::PgRaw;
pub use redis::RedisRaw;
pub use sqlite::SqliteRaw;

use crate::Error;

/// The payload of every raw row, the JSON of the queue's no-op jobs' arguments.
const PAYLOAD: &str = "null";

/// Rows claimed (and deleted) per drain statement or `ZPOPMIN`.
const CLAIM: usize = 100;

/// The raw counterpart of one backend.
#[async_trait]
pub trait RawBaseline: Send + Sync {
    /// The server's version, as it reports it.
    async fn version(&self) -> Result<String, Error>;
    /// Inserts `n` rows into an empty table, one chunk of [`crate::chunks::BATCH`] at a
    /// time as the queue's bulk enqueue is measured (Redis: several in flight); rows/s.
    async fn enqueue(&self, n: usize) -> Result<f64, Error>;
    /// Fills a table with `n` rows, then claims and deletes them all; rows/s of the
    /// second part.
    async fn drain(&self, n: usize) -> Result<f64, Error>;
    /// Closes the connections.
    async fn close(&self);
}

/// A fresh table or key prefix name.
fn fresh_name() -> String {
    format!(
        "bench_raw_{}",
        queue_core::JobId::new().to_string().to_lowercase()
    )
}

/// `sql` with its `{table}` placeholder filled in.
fn render(sql: &str, table: &str) -> String {
    sql.replace("{table}", table)
}

/// Fails unless a drain removed exactly the rows it was given.
fn check_drained(what: &str, drained: usize, n: usize) -> Result<(), Error> {
    if drained == n {
        Ok(())
    } else {
        Err(format!("{what} raw drain removed {drained} rows of {n}").into())
    }
}
