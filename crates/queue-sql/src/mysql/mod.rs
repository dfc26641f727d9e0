//! The MySQL and MariaDB dialect.
//!
//! Claims lock due rows with `SELECT … FOR UPDATE SKIP LOCKED` and mark them running by
//! primary key, in one READ COMMITTED transaction ([`claim`]), so concurrent claimers
//! never wait for each other. Batches (inserts, acks, heartbeats) go as one JSON value
//! read by `JSON_TABLE`, so each statement is prepared once whatever the batch's size.
//! Times are `DATETIME(6)` in UTC from the database's clock. MySQL has no NOTIFY: writes
//! through the queue wake this process's workers directly, and each queue's [`watch`]
//! notices other processes' writes within a second.
//! Deadlocks and lock-wait timeouts are retried inside the backend ([`retry`]).
//! Limits ([`limits`]) are enforced in the same claim transaction: each limited kind's
//! jobs are taken under a lock on its row of the limits table ([`limited`]), and the
//! plain claim passes over limited kinds as it does over paused ones.

mod admin;
mod browse;
mod claim;
mod connect;
mod enqueue;
mod limited;
mod limits;
mod pause;
mod queue;
mod retry;
mod row;
mod schema;
mod settle;
mod sql;
mod watch;
mod window;

pub(crate) use connect::parse_url;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use queue_core::{CancelNotifier, JobId, NewJob, Notifier, QueueError, Result};
use sqlx::{MySqlConnection, MySqlPool};

use crate::maintenance;
use crate::SqlOptions;
use row::db_err;
use sql::Sql;

/// Starts every transaction of the queue's own: READ COMMITTED takes no gap locks, so a
/// claim does not block the inserts of new jobs next to the rows it reads.
const BEGIN: &str = "SET TRANSACTION ISOLATION LEVEL READ COMMITTED; START TRANSACTION";

/// A queue in one MySQL table.
pub(crate) struct MySqlQueue {
    pool: MySqlPool,
    opts: SqlOptions,
    sql: Sql,
    /// The lease timeout in µs; changes at runtime.
    lease_us: AtomicU64,
    closed: AtomicBool,
    /// Wakes this process's idle workers.
    notifier: Notifier,
    /// Tells this process's workers of cancel requests made through this queue.
    cancels: CancelNotifier,
    /// Where this process's next claims start.
    resume: crate::resume::ResumePoints,
    /// The claim statements, by the number of kinds claimed.
    claims: std::sync::Mutex<std::collections::HashMap<usize, Arc<claim::Statements>>>,
}

impl MySqlQueue {
    /// Checks the server, runs the migrations, starts lease reclaim and pruning.
    pub(crate) async fn open(pool: MySqlPool, opts: SqlOptions) -> Result<Arc<MySqlQueue>> {
        // The table name is spliced into SQL: check it here too, not only in SqlQueue.
        opts.validate()?;
        connect::check_tls(&pool.connect_options())?;
        connect::probe(&pool.connect_options(), opts.connect_timeout).await?;
        let sql = Sql::new(&opts.table);
        schema::migrate(&pool, &sql).await?;
        let q = Arc::new(MySqlQueue {
            lease_us: AtomicU64::new(lease_us(opts.lease_timeout)),
            pool,
            sql,
            closed: AtomicBool::new(false),
            notifier: Notifier::new(),
            cancels: CancelNotifier::new(),
            resume: crate::resume::ResumePoints::default(),
            claims: Default::default(),
            opts,
        });
        maintenance::spawn(Arc::downgrade(&q));
        if q.opts.notifications {
            crate::watching::spawn(&q).await?;
        }
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

    /// Enqueues on the caller's connection or transaction: the job exists exactly when
    /// the caller commits.
    pub(crate) async fn enqueue_on(
        &self,
        conn: &mut MySqlConnection,
        job: NewJob,
    ) -> Result<JobId> {
        self.check_open()?;
        self.resume.enqueuing(std::slice::from_ref(&job));
        let ids = enqueue::insert(conn, &self.sql, std::slice::from_ref(&job), false).await?;
        // Local workers look at once; before the caller commits they find nothing and
        // sleep until their next poll.
        self.notifier.notify();
        ids.into_iter()
            .next()
            .ok_or_else(|| QueueError::InvalidJob("nothing to enqueue".into()))
    }

    /// Drops the queue's tables.
    pub(crate) fn drop_schema(&self) -> crate::BoxFuture<'_, Result<()>> {
        // Boxed as `Send` here, as `migrate` is.
        Box::pin(async move {
            sqlx::query(&self.sql.drop)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
            Ok(())
        })
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

/// A lease timeout in µs as the queue keeps it: at most `MAX_DELAY`, so a claim's
/// deadline stays a time the database stores (DATETIME ends at year 9999).
fn lease_us(timeout: Duration) -> u64 {
    u64::try_from(timeout.min(queue_core::MAX_DELAY).as_micros()).unwrap_or(u64::MAX)
}

/// A duration in µs for a statement, at most `MAX_DELAY`: `now ± it` stays a DATETIME.
fn capped_us(d: Duration) -> i64 {
    i64::try_from(d.min(queue_core::MAX_DELAY).as_micros()).unwrap_or(i64::MAX)
}
