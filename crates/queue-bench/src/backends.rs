//! The backends the benchmark knows how to make.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use queue_core::{JobId, Queue, Result};
use queue_memory::MemoryQueue;
use queue_redis::RedisQueue;
use queue_sql::{SqlOptions, SqlQueue};

use crate::raw::{MySqlRaw, PgRaw, RawBaseline, RedisRaw, SqliteRaw};

/// Makes a fresh, empty queue of one backend for each measurement.
#[async_trait]
pub trait BenchBackend: Send + Sync {
    /// The column name.
    fn name(&self) -> &'static str;
    /// A fresh, empty queue.
    async fn fresh(&self) -> Result<Arc<dyn Queue>>;
    /// Removes what `fresh` made (tables, keys).
    async fn cleanup(&self) -> Result<()> {
        Ok(())
    }
    /// The raw baseline on the same server; `None` for the in-memory backend.
    async fn raw(&self) -> std::result::Result<Option<Box<dyn RawBaseline>>, crate::Error> {
        Ok(None)
    }
    /// `enqueue_batch` calls in flight while filling a backlog (untimed).
    fn fill_in_flight(&self) -> usize {
        1
    }
}

fn postgres_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// The MySQL or MariaDB server: `MYSQL_URL`, else the local default.
pub fn mysql_url() -> String {
    std::env::var("MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into())
}

fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

struct Memory;

#[async_trait]
impl BenchBackend for Memory {
    fn name(&self) -> &'static str {
        "memory"
    }
    async fn fresh(&self) -> Result<Arc<dyn Queue>> {
        Ok(Arc::new(
            MemoryQueue::builder().keep_last_completed(0).build(),
        ))
    }
}

/// A SQL database: a fresh table (Postgres, MySQL) or file (SQLite) per measurement.
struct Sql {
    name: &'static str,
    made: Mutex<Vec<(SqlQueue, Option<std::path::PathBuf>)>>,
}

impl Sql {
    fn new(name: &'static str) -> Self {
        Sql {
            name,
            made: Mutex::new(Vec::new()),
        }
    }
}

#[async_trait]
impl BenchBackend for Sql {
    fn name(&self) -> &'static str {
        self.name
    }

    async fn fresh(&self) -> Result<Arc<dyn Queue>> {
        let table = format!("bench_{}", JobId::new().to_string().to_lowercase());
        // Completed jobs are not kept, as on the other backends (`keep_last_completed(0)`).
        let opts = SqlOptions::default()
            .table(&table)
            .keep_completed_for(std::time::Duration::ZERO);
        let (q, file) = match self.name {
            "postgres" => (SqlQueue::connect_with(&postgres_url(), opts).await?, None),
            "mysql" => (SqlQueue::connect_with(&mysql_url(), opts).await?, None),
            _ => {
                let path = std::env::temp_dir().join(format!("{table}.db"));
                let url = format!("sqlite:{}", path.display());
                (SqlQueue::connect_with(&url, opts).await?, Some(path))
            }
        };
        self.made
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((q.clone(), file));
        Ok(Arc::new(q))
    }

    async fn cleanup(&self) -> Result<()> {
        let made = std::mem::take(&mut *self.made.lock().unwrap_or_else(|p| p.into_inner()));
        for (q, file) in made {
            q.close().await?;
            q.drop_schema().await?;
            if let Some(path) = file {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
        }
        Ok(())
    }

    async fn raw(&self) -> std::result::Result<Option<Box<dyn RawBaseline>>, crate::Error> {
        Ok(Some(match self.name {
            "postgres" => Box::new(PgRaw::connect(&postgres_url()).await?),
            "mysql" => Box::new(MySqlRaw::connect(&mysql_url()).await?),
            _ => Box::new(SqliteRaw),
        }))
    }

    fn fill_in_flight(&self) -> usize {
        // SQLite has one writer; the servers take several inserts at once.
        if self.name == "sqlite" {
            1
        } else {
            4
        }
    }
}

/// Redis: a fresh queue name (key prefix) per measurement.
#[derive(Default)]
struct Redis {
    made: Mutex<Vec<RedisQueue>>,
}

#[async_trait]
impl BenchBackend for Redis {
    fn name(&self) -> &'static str {
        "redis"
    }

    async fn fresh(&self) -> Result<Arc<dyn Queue>> {
        let url = redis_url();
        let name = format!("bench_{}", JobId::new().to_string().to_lowercase());
        let q = RedisQueue::builder(name)
            .url(url)
            .keep_last_completed(0)
            .build()
            .await?;
        let q = Arc::new(q);
        self.made
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(RedisQueue::clone(&q));
        Ok(q)
    }

    async fn cleanup(&self) -> Result<()> {
        let made = std::mem::take(&mut *self.made.lock().unwrap_or_else(|p| p.into_inner()));
        for q in made {
            q.close().await?;
            q.drop_all().await?;
        }
        Ok(())
    }

    async fn raw(&self) -> std::result::Result<Option<Box<dyn RawBaseline>>, crate::Error> {
        Ok(Some(Box::new(RedisRaw::connect(&redis_url()).await?)))
    }

    fn fill_in_flight(&self) -> usize {
        4
    }
}

/// The backends named on the command line, or all of them, in the report's order.
pub fn selected(names: &[String]) -> Vec<Box<dyn BenchBackend>> {
    let all: Vec<Box<dyn BenchBackend>> = vec![
        Box::new(Memory),
        Box::new(Sql::new("sqlite")),
        Box::new(Sql::new("postgres")),
        Box::new(Redis::default()),
        Box::new(Sql::new("mysql")),
    ];
    if names.is_empty() {
        return all;
    }
    all.into_iter()
        .filter(|b| names.iter().any(|n| n == b.name()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_backend_in_the_reports_order() {
        let names: Vec<&str> = selected(&[]).iter().map(|b| b.name()).collect();
        assert_eq!(names, ["memory", "sqlite", "postgres", "redis", "mysql"]);
        let named = selected(&["mysql".into(), "memory".into()]);
        let names: Vec<&str> = named.iter().map(|b| b.name()).collect();
        assert_eq!(names, ["memory", "mysql"]);
    }
}
