//! The SQLite dialect.
//!
//! One file, many connections: WAL lets readers run beside the single writer, every write
//! is one statement or one `BEGIN IMMEDIATE` transaction on the queue's own write
//! connection ([`writer`]), and busy errors are waited out (see [`busy`]). Times are
//! INTEGER microseconds by the process clock, which shares the machine with the file.
//! Writes through the queue wake this process's workers directly ([`Notifier`]); SQLite
//! has no NOTIFY, so commits of other processes are noticed by [`watch`].
//!
//! Concurrency and rate limits per kind live in the database too and are counted and
//! taken in the claim's write transaction ([`limited`]), or, for a claim whose one
//! limited kind is limited per key only, by statements each atomic alone; a claim that
//! asks for no limited kind runs exactly the plain statements, which step over limited
//! kinds.

mod admin;
mod browse;
pub(crate) mod busy;
mod claim;
mod enqueue;
mod limited;
mod limits;
mod pause;
mod row;
mod schema;
mod settle;
mod sql;
mod watch;
mod writer;

use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use queue_core::{
    CancelNotifier, CancelOutcome, CancelRequests, Completion, Job, JobId, Lease, LeaseStatus,
    NewJob, Notifier, Queue, QueueError, Result, Subscription, MAX_DELAY,
};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Executor, SqliteConnection, SqlitePool};

use crate::maintenance;
use crate::SqlOptions;
use busy::retry_busy;
use enqueue::{Batch, Insert};
use row::{db_err, duration_us, now_us};
use sql::Sql;
use writer::{Turn, Writer};

/// How long a connection waits for the write lock before [`busy`]'s retry steps in.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections of a pool made by [`open_pool`]: one writes at a time, the rest read.
const MAX_CONNECTIONS: u32 = 4;
/// The shortest lease `set_lease_timeout` accepts; zero would expire every claim at once.
const MIN_LEASE: Duration = Duration::from_millis(1);

/// A pool for a `sqlite:` URL: the file is created if missing, in WAL mode (readers never
/// block the writer), `synchronous = NORMAL` (durable at checkpoints, no fsync per
/// commit) and with a busy timeout.
pub(crate) async fn open_pool(url: &str) -> Result<SqlitePool> {
    let opts = SqliteConnectOptions::from_str(url)
        .map_err(|e| {
            let url = queue_core::redact_url(url);
            QueueError::InvalidConfig(format!("bad SQLite URL {url:?}: {e}"))
        })?
        .create_if_missing(true)
        .busy_timeout(BUSY_TIMEOUT);
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    let pool = if in_memory {
        // An in-memory database lives as long as a connection to it and is shared
        // between connections only through the shared cache's table locks: keep one
        // connection, forever.
        SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
    } else {
        SqlitePoolOptions::new().max_connections(MAX_CONNECTIONS)
    };
    let opts = if in_memory {
        opts
    } else {
        opts.journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
    };
    pool.connect_with(opts).await.map_err(QueueError::backend)
}

/// A queue in one SQLite table.
pub(crate) struct SqliteQueue {
    /// Connections to the database file.
    pool: SqlitePool,
    /// The settings it was built with.
    opts: SqlOptions,
    /// The statements, rendered for the table.
    sql: Sql,
    /// The lease timeout in µs; changes at runtime.
    lease_us: AtomicU64,
    /// Set by `close`: enqueues fail from then on.
    closed: AtomicBool,
    /// Wakes this process's idle workers.
    notifier: Notifier,
    /// Tells this process's workers of cancel requests made through this queue.
    cancels: CancelNotifier,
    /// This process's writers take turns here, on one connection.
    writer: Writer,
    /// Whether the last claim found limits on the kinds it asked for: then a settled
    /// claim frees a slot, and this process's idle workers are woken to use it.
    limited: AtomicBool,
    /// The one limited kind the last full claim asked for, with its per-key concurrency,
    /// when that was all its limit and its window needed no key walk: the next claims take
    /// from its window outside a transaction (see `claim.rs`).
    key_limited_alone: Mutex<Option<(String, u32)>>,
}

impl SqliteQueue {
    /// The database file, for `Debug`.
    pub(crate) fn file(&self) -> String {
        self.pool
            .connect_options()
            .get_filename()
            .display()
            .to_string()
    }

    /// The options the queue was built with.
    pub(crate) fn options(&self) -> &SqlOptions {
        &self.opts
    }

    /// Waits for this process's turn to write.
    pub(crate) async fn write_turn(&self) -> Result<Turn<'_>> {
        self.writer.turn().await
    }

    /// Runs the migrations, starts lease reclaim and pruning, and returns the queue.
    pub(crate) async fn open(pool: SqlitePool, opts: SqlOptions) -> Result<Arc<SqliteQueue>> {
        // The table name is spliced into SQL: check it here too, not only in SqlQueue.
        opts.validate()?;
        let sql = Sql::new(&opts.table);
        schema::migrate(&pool, &sql).await?;
        let writer = Writer::open(pool.clone(), &sql).await?;
        let q = Arc::new(SqliteQueue {
            // At most MAX_DELAY, so a claim's deadline stays a time that reads back.
            lease_us: AtomicU64::new(
                u64::try_from(duration_us(opts.lease_timeout.min(MAX_DELAY))).unwrap_or(0),
            ),
            sql,
            closed: AtomicBool::new(false),
            notifier: Notifier::new(),
            cancels: CancelNotifier::new(),
            writer,
            limited: AtomicBool::new(false),
            key_limited_alone: Mutex::new(None),
            pool,
            opts,
        });
        maintenance::spawn(Arc::downgrade(&q));
        if q.opts.notifications && q.writer.is_own() {
            crate::watching::spawn(&q).await?;
        }
        Ok(q)
    }

    /// Enqueues on the caller's connection or transaction: the job exists exactly when
    /// the caller commits. Inside a transaction it runs as a savepoint; a transaction that
    /// read before this write should have begun with `BEGIN IMMEDIATE`
    /// (`pool.begin_with("BEGIN IMMEDIATE")`), or SQLite may refuse the upgrade to a
    /// writer with `SQLITE_BUSY_SNAPSHOT`, which only restarting that transaction cures.
    pub(crate) async fn enqueue_on(
        &self,
        conn: &mut SqliteConnection,
        job: NewJob,
    ) -> Result<JobId> {
        self.check_open()?;
        let batch = Batch::prepare(vec![job], now_us())?;
        let ins = Insert {
            sql: &self.sql,
            batch: &batch,
        };
        let holders = busy::atomic(conn, &ins, enqueue::write).await?;
        // Local workers look at once; before the caller commits they find nothing and
        // sleep until their next poll.
        self.notifier.notify();
        batch
            .ids(&holders)?
            .pop()
            .ok_or_else(|| QueueError::InvalidJob("nothing to enqueue".into()))
    }

    /// Drops the table and its migration record.
    pub(crate) async fn drop_schema(&self) -> Result<()> {
        let mut turn = self.write_turn().await?;
        let conn: &mut SqliteConnection = &mut turn;
        // A plain string runs as a script of several statements.
        let r = retry_busy!(conn.execute(self.sql.drop.as_str()).await);
        self.writer.checked(r.map_err(db_err))?;
        Ok(())
    }

    /// Fails with `Closed` once the queue is closed.
    fn check_open(&self) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            Err(QueueError::Closed)
        } else {
            Ok(())
        }
    }

    /// Wakes this process's idle workers when a settled claim may have freed a limit's
    /// slot (the last claim met a limit).
    fn slot_freed(&self) {
        if self.limited.load(Ordering::Relaxed) {
            self.notifier.notify();
        }
    }

    /// The current lease timeout.
    fn lease(&self) -> Duration {
        Duration::from_micros(self.lease_us.load(Ordering::Relaxed))
    }
}

#[async_trait]
impl Queue for SqliteQueue {
    fn name(&self) -> &str {
        &self.opts.table
    }

    async fn enqueue(&self, job: NewJob) -> Result<JobId> {
        queue_core::enqueue_one(self, job).await
    }

    async fn enqueue_batch(&self, jobs: Vec<NewJob>) -> Result<Vec<JobId>> {
        self.check_open()?;
        let batch = Batch::prepare(jobs, now_us())?;
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let ins = Insert {
            sql: &self.sql,
            batch: &batch,
        };
        let mut turn = self.write_turn().await?;
        let holders = if batch.is_one_statement() {
            // Atomic on its own: spares the BEGIN and COMMIT round trips.
            enqueue::write(&mut turn, &ins).await
        } else {
            busy::immediate(&mut turn, &ins, enqueue::write).await
        };
        let holders = self.writer.checked(holders)?;
        drop(turn);
        self.notifier.notify();
        batch.ids(&holders)
    }

    async fn dequeue_batch(&self, kinds: &[&str], max: usize) -> Result<Vec<Job>> {
        self.claim(kinds, max).await
    }

    async fn ack_batch(&self, leases: &[Lease]) -> Result<Vec<Result<()>>> {
        self.ack_leases(leases).await
    }

    /// Outputs are pruned with their completed jobs (`keep_completed_for`).
    async fn complete_batch(&self, done: &[Completion]) -> Result<Vec<Result<()>>> {
        self.complete_leases(done).await
    }

    async fn nack(&self, lease: &Lease, error: &str) -> Result<()> {
        self.nack_lease(lease, error).await
    }

    async fn discard(&self, lease: &Lease, reason: &str) -> Result<()> {
        self.discard_lease(lease, reason).await
    }

    async fn snooze(&self, lease: &Lease, delay: Duration) -> Result<()> {
        self.snooze_lease(lease, delay).await
    }

    async fn heartbeat(&self, leases: &[Lease]) -> Result<Vec<LeaseStatus>> {
        self.extend_leases(leases).await
    }

    async fn cancel(&self, id: JobId) -> Result<CancelOutcome> {
        self.cancel_job(id).await
    }

    async fn reclaim(&self) -> Result<u64> {
        maintenance::Maintain::reclaim_expired(self).await
    }

    fn lease_timeout(&self) -> Duration {
        self.lease()
    }

    fn set_lease_timeout(&self, timeout: Duration) {
        let us = duration_us(timeout.clamp(MIN_LEASE, MAX_DELAY));
        self.lease_us
            .store(u64::try_from(us).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    fn subscribe(&self) -> Subscription {
        self.notifier.subscribe()
    }

    /// Requests made through this queue handle. Workers on other handles or processes
    /// learn of a request from their next heartbeat (a third of a lease at most).
    fn cancel_requests(&self) -> CancelRequests {
        self.cancels.listen()
    }

    async fn pause_kind(&self, kind: &str) -> Result<()> {
        self.pause(kind).await
    }

    async fn resume_kind(&self, kind: &str) -> Result<()> {
        self.resume(kind).await
    }

    async fn paused_kinds(&self) -> Result<Vec<String>> {
        self.paused().await
    }

    async fn set_limit(&self, kind: &str, limit: queue_core::Limit) -> Result<()> {
        self.store_limit(kind, limit).await
    }

    async fn clear_limit(&self, kind: &str) -> Result<()> {
        self.remove_limit(kind).await
    }

    async fn limits(&self) -> Result<std::collections::BTreeMap<String, queue_core::Limit>> {
        self.stored_limits().await
    }

    async fn close(&self) -> Result<()> {
        self.closed.store(true, Ordering::Release);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
