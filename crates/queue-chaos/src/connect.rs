//! Opening the queue of a [`Target`], the same way in the harness and in the workers.

use std::sync::Arc;
use std::time::Duration;

use queue_core::{Backend, QueueError, Result};
use queue_redis::RedisQueue;
use queue_sql::{SqlOptions, SqlQueue};

use crate::config::{Target, PG_APPLICATION, RETAIN};

/// Who opens the queue: Postgres connections of workers carry [`PG_APPLICATION`] as
/// their application name, so a fault can end theirs and spare the harness's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The harness: enqueues and inspects.
    Harness,
    /// A worker process.
    Worker,
}

/// Opens the queue of `target` with lease timeout `lease`, keeping completed jobs, and a
/// Postgres pool of `pool` connections when given.
pub async fn open(
    target: &Target,
    lease: Duration,
    pool: Option<u32>,
    role: Role,
) -> Result<Arc<dyn Backend>> {
    let sql = |table: &str| {
        SqlOptions::default()
            .table(table)
            .lease_timeout(lease)
            .keep_completed_for(RETAIN)
    };
    match target {
        Target::Postgres { url, table } => {
            let url = match role {
                Role::Worker => with_application(url),
                Role::Harness => url.clone(),
            };
            let queue = match pool {
                Some(n) => {
                    let pool = sqlx::postgres::PgPoolOptions::new()
                        .max_connections(n)
                        .connect(&url)
                        .await
                        .map_err(QueueError::backend)?;
                    SqlQueue::from_pg_pool(pool, sql(table)).await?
                }
                None => SqlQueue::connect_with(&url, sql(table)).await?,
            };
            Ok(Arc::new(queue))
        }
        Target::Sqlite { path } => {
            let url = format!("sqlite:{}", path.display());
            Ok(Arc::new(
                SqlQueue::connect_with(&url, sql("chaos_jobs")).await?,
            ))
        }
        Target::Redis { url, name } => Ok(Arc::new(
            RedisQueue::builder(name.as_str())
                .url(url.as_str())
                .lease_timeout(lease)
                .keep_last_completed(1_000_000)
                .build()
                .await?,
        )),
    }
}

/// `url` with the workers' application name added.
fn with_application(url: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}application_name={PG_APPLICATION}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_application_name_is_added_to_any_url() {
        assert_eq!(
            with_application("postgres://h/db"),
            "postgres://h/db?application_name=chaos-worker"
        );
        assert_eq!(
            with_application("postgres://h/db?sslmode=disable"),
            "postgres://h/db?sslmode=disable&application_name=chaos-worker"
        );
    }
}
