//! Opening the queue of a [`Target`], the same way in the harness and in the workers.

use std::sync::Arc;
use std::time::Duration;

use queue_core::{Backend, QueueError, Result};
use queue_redis::RedisQueue;
use queue_sql::{SqlOptions, SqlQueue};

use crate::config::{Target, MYSQL_WORKER_USER, PG_APPLICATION, RETAIN};

/// Who opens the queue: Postgres connections of workers carry [`PG_APPLICATION`] as
/// their application name, and MySQL ones log in as [`MYSQL_WORKER_USER`], so a fault
/// can end theirs and spare the harness's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The harness: enqueues and inspects.
    Harness,
    /// A worker process.
    Worker,
}

/// Opens the queue of `target` with lease timeout `lease`, keeping completed jobs, and a
/// Postgres or MySQL pool of `pool` connections when given.
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
        Target::MySql { url, table } => {
            let url = match role {
                Role::Worker => with_user(url, MYSQL_WORKER_USER)?,
                Role::Harness => url.clone(),
            };
            let queue = match pool {
                Some(n) => {
                    let pool = sqlx::mysql::MySqlPoolOptions::new()
                        .max_connections(n)
                        .connect(&url)
                        .await
                        .map_err(QueueError::backend)?;
                    SqlQueue::from_mysql_pool(pool, sql(table)).await?
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

/// `url` logging in as `user` without a password (the throw-away server's users have
/// none).
fn with_user(url: &str, user: &str) -> Result<String> {
    let bad = || QueueError::InvalidConfig(format!("want `SCHEME://[USER@]HOST…`, got {url:?}"));
    let (scheme, rest) = url.split_once("://").ok_or_else(bad)?;
    // The authority ends at the first `/` or `?`; only an `@` inside it ends a user.
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let host = match rest[..end].rfind('@') {
        Some(at) => &rest[at + 1..],
        None => rest,
    };
    Ok(format!("{scheme}://{user}@{host}"))
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

    #[test]
    fn the_worker_user_replaces_any_user() {
        let w = |url| with_user(url, "w").ok();
        assert_eq!(
            w("mysql://root@127.0.0.1:3/test").as_deref(),
            Some("mysql://w@127.0.0.1:3/test")
        );
        assert_eq!(
            w("mysql://u:p@h/db?x=@").as_deref(),
            Some("mysql://w@h/db?x=@")
        );
        assert_eq!(w("mysql://h:3/db").as_deref(), Some("mysql://w@h:3/db"));
        assert_eq!(w("h/db"), None);
    }
}
