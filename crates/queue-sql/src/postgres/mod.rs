//! The Postgres dialect.

mod admin;
mod browse;
mod connect;
mod enqueue;
mod limits;
mod listen;
mod pause;
mod queue;
mod row;
mod schema;
mod sql;

pub(crate) use connect::parse_url;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use queue_core::{CancelNotifier, JobId, NewJob, Notifier, QueueError, Result};
use sqlx::{PgConnection, PgPool};

use crate::maintenance::{self, Maintain};
use crate::SqlOptions;
use row::db_err;
use sql::Sql;

/// A queue in one Postgres table.
pub(crate) struct PgQueue {
    pool: PgPool,
    opts: SqlOptions,
    sql: Sql,
    lease_us: AtomicU64,
    closed: AtomicBool,
    notifier: Notifier,
    /// Announces cancel requests heard on the table's channel.
    cancels: CancelNotifier,
    /// Where this process's next claims start.
    resume: crate::resume::ResumePoints,
    /// The LISTEN subscription (with notifications on); dropped with the queue.
    _listening: Option<listen::Listening>,
}

impl PgQueue {
    pub(crate) async fn open(pool: PgPool, opts: SqlOptions) -> Result<Arc<PgQueue>> {
        // One connection of our own first: a pool would retry a refused connection until
        // its acquire timeout and then say only "pool timed out".
        connect::check_tls(&pool.connect_options())?;
        connect::probe(&pool.connect_options(), opts.connect_timeout).await?;
        let sql = Sql::new(&opts.table);
        schema::migrate(&pool, &opts.table, &sql).await?;
        let notifier = Notifier::new();
        let cancels = CancelNotifier::new();
        let listening = if opts.notifications {
            let channel = &opts.table;
            let timeout = opts.connect_timeout;
            let route = listen::Route {
                wake: notifier.clone(),
                cancels: cancels.clone(),
            };
            Some(listen::subscribe(&pool, channel, route, timeout).await?)
        } else {
            None
        };
        let q = Arc::new(PgQueue {
            lease_us: AtomicU64::new(lease_us(opts.lease_timeout)),
            pool,
            sql,
            closed: AtomicBool::new(false),
            notifier,
            cancels,
            resume: crate::resume::ResumePoints::default(),
            _listening: listening,
            opts,
        });
        maintenance::spawn(Arc::downgrade(&q));
        Ok(q)
    }

    /// The server and database, for `Debug`: never the password.
    pub(crate) fn server(&self) -> String {
        connect::target(&self.pool.connect_options())
    }

    /// The options the queue was built with.
    pub(crate) fn options(&self) -> &SqlOptions {
        &self.opts
    }

    pub(crate) async fn enqueue_on(&self, conn: &mut PgConnection, job: NewJob) -> Result<JobId> {
        self.check_open()?;
        self.resume.enqueuing(std::slice::from_ref(&job));
        let ids = enqueue::insert(conn, &self.sql, vec![job], false).await?;
        ids.into_iter()
            .next()
            .ok_or_else(|| QueueError::InvalidJob("nothing to enqueue".into()))
    }

    pub(crate) fn drop_schema(&self) -> crate::BoxFuture<'_, Result<()>> {
        // Boxed as `Send` here: sqlx's executor lifetimes otherwise defeat the Send check
        // of callers that spawn this future.
        Box::pin(drop_schema(&self.pool, &self.sql.drop))
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
}

/// Runs the drop script in one transaction, so the migration lock it takes first is held
/// until every drop, the shared function's included, is committed.
async fn drop_schema(pool: &PgPool, script: &str) -> Result<()> {
    let mut tx = pool.begin().await.map_err(db_err)?;
    // A plain string runs over the simple protocol, which allows several statements.
    sqlx::Executor::execute(&mut *tx, script)
        .await
        .map_err(db_err)?;
    tx.commit().await.map_err(db_err)
}

/// A lease timeout in µs as the queue keeps it: at most `MAX_DELAY`, so a claim's
/// deadline stays a time the database stores and reads back.
pub(super) fn lease_us(timeout: Duration) -> u64 {
    u64::try_from(timeout.min(queue_core::MAX_DELAY).as_micros()).unwrap_or(u64::MAX)
}

/// Rows one reclaim statement handles; more run in further statements.
const RECLAIM_BATCH: i64 = 1_000;
/// Rows one prune statement deletes; more go in further statements.
const PRUNE_BATCH: i64 = 10_000;

impl PgQueue {
    /// Runs a bounded statement again until it changes fewer rows than its bound, so a
    /// backlog larger than one batch is worked off in one maintenance tick, in short
    /// transactions.
    async fn in_batches<'q>(&'q self, limit: i64, run: impl Fn() -> PgQuery<'q>) -> Result<u64> {
        let mut total = 0;
        loop {
            let n = run()
                .bind(limit)
                .execute(&self.pool)
                .await
                .map_err(db_err)?
                .rows_affected();
            total += n;
            if n < u64::try_from(limit).unwrap_or(u64::MAX) || self.is_closed() {
                return Ok(total);
            }
            tokio::task::yield_now().await;
        }
    }
}

/// A statement with its leading values bound.
type PgQuery<'q> = sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>;

#[async_trait]
impl Maintain for PgQueue {
    async fn reclaim_expired(&self) -> Result<u64> {
        let n = self
            .in_batches(RECLAIM_BATCH, || {
                sqlx::query(&self.sql.reclaim).bind(queue_core::LEASE_EXPIRED)
            })
            .await?;
        if n > 0 {
            self.notifier.notify();
        }
        Ok(n)
    }

    async fn prune(&self) -> Result<u64> {
        let completed = self.opts.keep_completed_for.as_secs_f64();
        let failed = self.opts.keep_failed_for.map(|d| d.as_secs_f64());
        self.in_batches(PRUNE_BATCH, || {
            sqlx::query(&self.sql.prune).bind(completed).bind(failed)
        })
        .await
    }

    async fn compact(&self) -> Result<()> {
        // Keeps the count changes that stats sum to a handful of rows.
        sqlx::query(&self.sql.count_fold)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    fn reclaim_every(&self) -> Duration {
        self.opts.reclaim_every(self.lease())
    }

    fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }
}
