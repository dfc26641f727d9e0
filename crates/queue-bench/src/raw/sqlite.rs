//! The SQLite baseline: a two-column table in a temporary WAL file, one writer.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use super::{check_drained, fresh_name, render, RawBaseline, CLAIM, PAYLOAD};
use crate::chunks::in_chunks;
use crate::Error;

macro_rules! load {
    ($file:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/sql/sqlite/", $file))
    };
}

/// Fresh database files in the temporary directory, with the queue's settings.
pub struct SqliteRaw;

/// One database file, removed (with its WAL and shared-memory files) on `remove`.
struct File {
    pool: SqlitePool,
    path: PathBuf,
    table: String,
}

impl File {
    async fn create() -> Result<File, Error> {
        let table = fresh_name();
        let path = std::env::temp_dir().join(format!("{table}.db"));
        // The queue's settings (queue-sql's `open_pool`), with one connection: one writer.
        let opts = SqliteConnectOptions::from_str(&format!("sqlite:{}", path.display()))?
            .create_if_missing(true)
            .busy_timeout(Duration::from_secs(10))
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(opts)
            .await?;
        let file = File { pool, path, table };
        if let Err(e) = sqlx::query(&render(load!("create.sql"), &file.table))
            .execute(&file.pool)
            .await
        {
            file.remove().await;
            return Err(e.into());
        }
        Ok(file)
    }

    async fn fill(&self, n: usize) -> Result<(), Error> {
        let insert = render(load!("insert.sql"), &self.table);
        in_chunks(n, 1, |_, len| {
            let rows = vec!["(?)"; len].join(", ");
            let (pool, sql) = (self.pool.clone(), insert.replace("{rows}", &rows));
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

    async fn drain_all(&self) -> Result<usize, Error> {
        let sql = render(load!("drain.sql"), &self.table);
        let mut conn = self.pool.acquire().await?;
        let mut drained = 0;
        loop {
            let rows: Vec<(i64, String)> = sqlx::query_as(&sql).fetch_all(&mut *conn).await?;
            if rows.is_empty() {
                return Ok(drained);
            }
            debug_assert!(rows.len() <= CLAIM);
            drained += rows.len();
        }
    }

    async fn remove(self) {
        self.pool.close().await;
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.path.display()));
        }
    }
}

#[async_trait]
impl RawBaseline for SqliteRaw {
    async fn version(&self) -> Result<String, Error> {
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect("sqlite::memory:")
            .await?;
        let v: Result<(String,), _> = sqlx::query_as(load!("version.sql")).fetch_one(&pool).await;
        pool.close().await;
        Ok(v?.0)
    }

    async fn enqueue(&self, n: usize) -> Result<f64, Error> {
        let file = File::create().await?;
        let t0 = Instant::now();
        let filled = file.fill(n).await;
        let rate = n as f64 / t0.elapsed().as_secs_f64();
        file.remove().await;
        filled.map(|()| rate)
    }

    async fn drain(&self, n: usize) -> Result<f64, Error> {
        let file = File::create().await?;
        let timed = async {
            file.fill(n).await?;
            let t0 = Instant::now();
            let drained = file.drain_all().await?;
            let rate = n as f64 / t0.elapsed().as_secs_f64();
            check_drained("SQLite", drained, n)?;
            Ok(rate)
        }
        .await;
        file.remove().await;
        timed
    }

    async fn close(&self) {}
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_drain_removes_every_row_and_then_its_files() {
        let file = File::create().await.unwrap();
        let path = file.path.clone();
        file.fill(2_500).await.unwrap();
        assert_eq!(file.drain_all().await.unwrap(), 2_500);
        assert_eq!(file.drain_all().await.unwrap(), 0);
        file.remove().await;
        for suffix in ["", "-wal", "-shm"] {
            assert!(!std::path::Path::new(&format!("{}{suffix}", path.display())).exists());
        }
    }
}
