//! Opening the queue a command works on, with as little background work as the backend
//! crates allow: a command runs for a moment, its workers run elsewhere.
//!
//! - SQL (`queue-sql`): notifications off, so no LISTEN connection on Postgres and no
//!   `data_version` polling on SQLite. The crate always spawns its maintenance timer
//!   (lease reclaim, pruning); its period is set so long that it never fires while the
//!   tool runs, so the tool prunes and reclaims nothing.
//! - Redis (`queue-redis`): wake-ups off (no subscriber connection), one connection. The
//!   crate's maintenance timer (reclaiming expired leases, promoting due delayed jobs,
//!   every 5 s at most) cannot be switched off; both steps are safe from any process.
//!   The tool keeps every finished job (`keep_last_completed` / `keep_last_failed` unbounded), so
//!   a cancel or replay from here never trims the history the workers' settings keep.

use std::sync::Arc;
use std::time::Duration;

use queue_core::Backend;
use queue_redis::RedisQueue;
use queue_sql::{SqlOptions, SqlQueue};

use crate::error::CliError;
use crate::schema::SchemaConn;
use crate::target::Location;

/// The maintenance period of a SQL queue opened by the tool: far longer than any command
/// runs, so the timer never fires.
const IDLE_MAINTENANCE: Duration = Duration::from_secs(365 * 24 * 3600);

/// Opens the queue at `location`. A SQL table that does not exist yet is refused (with a
/// hint to run `queuectl migrate`) rather than created.
pub async fn open_existing(location: &Location) -> Result<Arc<dyn Backend>, CliError> {
    if let Location::Postgres { table, .. }
    | Location::MySql { table, .. }
    | Location::Sqlite { table, .. } = location
    {
        let found = match SchemaConn::open(location).await? {
            Some(mut conn) => {
                let found = conn.has_queue(table).await;
                conn.close().await;
                found?
            }
            None => false,
        };
        if !found {
            return Err(CliError::failed(format!(
                "no queue at {}: check --table and the URL, or run `queuectl migrate` to \
                 create it",
                location.label()
            )));
        }
    }
    open(location).await
}

/// Opens the queue at `location`, creating or migrating a SQL table as needed.
pub async fn open(location: &Location) -> Result<Arc<dyn Backend>, CliError> {
    let queue: Arc<dyn Backend> = match location {
        Location::Postgres { url, table }
        | Location::MySql { url, table }
        | Location::Sqlite { url, table } => {
            let opts = SqlOptions::default()
                .table(table)
                .notifications(false)
                .maintenance_every(IDLE_MAINTENANCE);
            Arc::new(SqlQueue::connect_with(url, opts).await?)
        }
        Location::Redis { url, name } => Arc::new(
            RedisQueue::builder(name)
                .url(url)
                .wake_ups(false)
                .pool_size(1)
                .keep_last_completed(u64::MAX)
                .keep_last_failed(u64::MAX)
                .build()
                .await?,
        ),
    };
    Ok(queue)
}
