//! The SQLite dialect.

pub(crate) mod busy;
mod enqueue;
mod queue;
mod row;
mod schema;
mod sql;

use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use queue_core::{JobId, NewJob, Notifier, QueueError, Result};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{SqliteConnection, SqlitePool};
use time::OffsetDateTime;

use crate::maintenance::{self, Maintain};
use crate::SqlOptions;
use busy::retry_busy;
use row::{db_err, to_us};
use sql::Sql;

/// How long a connection waits for the write lock before the retry in [`busy`] steps in.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// A pool for a `sqlite:` URL: the file is created if missing, with WAL (readers never
/// block the writer) and a busy timeout.
pub(crate) async fn open_pool(url: &str) -> Result<SqlitePool> {
    let opts = SqliteConnectOptions::from_str(url)
        .map_err(|e| QueueError::InvalidConfig(format!("bad SQLite URL {url:?}: {e}")))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(BUSY_TIMEOUT);
    SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(opts)
        .await
        .map_err(QueueError::backend)
}

/// A queue in one SQLite table.
pub(crate) struct SqliteQueue {
    pool: SqlitePool,
    opts: SqlOptions,
    sql: Sql,
    lease_us: AtomicU64,
    closed: AtomicBool,
    /// Wake-ups stay in the process: SQLite has no NOTIFY.
    notifier: Notifier,
    /// The backoff of each attempt (1-based, µs, no jitter) as a JSON array, so the nack
    /// statement can pick the delay from the stored attempts.
    delays_json: String,
}

impl SqliteQueue {
    pub(crate) async fn open(pool: SqlitePool, opts: SqlOptions) -> Result<Arc<SqliteQueue>> {
        let sql = Sql::new(&opts.table);
        schema::migrate(&pool, &opts.table, &sql).await?;
        let plain = opts.retry.jitter(0.0);
        let delays: Vec<i64> = (1..=64)
            .map(|n| i64::try_from(plain.delay(n).as_micros()).unwrap_or(i64::MAX))
            .collect();
        let q = Arc::new(SqliteQueue {
            delays_json: serde_json::json!(delays).to_string(),
            lease_us: AtomicU64::new(opts.lease_timeout.as_micros() as u64),
            pool,
            sql,
            closed: AtomicBool::new(false),
            notifier: Notifier::new(),
            opts,
        });
        maintenance::spawn(Arc::downgrade(&q));
        Ok(q)
    }

    pub(crate) async fn enqueue_on(
        &self,
        conn: &mut SqliteConnection,
        job: NewJob,
    ) -> Result<JobId> {
        self.check_open()?;
        let ids = enqueue::insert(conn, &self.sql, vec![job]).await?;
        // Wakes local workers; if the caller rolls back they find nothing and sleep again.
        self.notifier.notify();
        ids.into_iter()
            .next()
            .ok_or_else(|| QueueError::InvalidJob("nothing to enqueue".into()))
    }

    pub(crate) async fn drop_schema(&self) -> Result<()> {
        retry_busy!(sqlx::raw_sql(&self.sql.drop).execute(&self.pool).await).map_err(db_err)?;
        Ok(())
    }

    fn check_open(&self) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            Err(QueueError::Closed)
        } else {
            Ok(())
        }
    }

    fn lease(&self) -> Duration {
        Duration::from_micros(self.lease_us.load(Ordering::Relaxed))
    }

    fn now() -> i64 {
        to_us(OffsetDateTime::now_utc())
    }
}

#[async_trait]
impl Maintain for SqliteQueue {
    async fn reclaim_expired(&self) -> Result<u64> {
        let n = retry_busy!(
            sqlx::query(&self.sql.reclaim)
                .bind(Self::now())
                .bind(queue_core::LEASE_EXPIRED)
                .execute(&self.pool)
                .await
        )
        .map_err(db_err)?
        .rows_affected();
        if n > 0 {
            self.notifier.notify();
        }
        Ok(n)
    }

    async fn prune(&self) -> Result<u64> {
        let now = Self::now();
        let cutoff = |d: Duration| now - i64::try_from(d.as_micros()).unwrap_or(i64::MAX / 2);
        let r = retry_busy!(
            sqlx::query(&self.sql.prune)
                .bind(now)
                .bind(cutoff(self.opts.retain_completed))
                .bind(self.opts.retain_failed.map(cutoff))
                .execute(&self.pool)
                .await
        )
        .map_err(db_err)?;
        Ok(r.rows_affected())
    }

    fn reclaim_every(&self) -> Duration {
        self.opts.reclaim_every(self.lease())
    }

    fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }
}
