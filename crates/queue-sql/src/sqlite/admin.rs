//! State changes made without a lease: cancel, replay, run now, delete and purge (admin
//! calls), and lease reclaim and retention pruning (the maintenance timer, or
//! `Queue::reclaim`).
//!
//! Each maintenance statement picks its rows and changes them in one statement, under
//! SQLite's single write lock: nothing can change a row between the pick and the change,
//! so unlike Postgres no row locks are needed.

use std::sync::atomic::Ordering;
use std::time::Duration;

use async_trait::async_trait;
use queue_core::{
    check_purge_state, list_limit, CancelOutcome, JobId, JobState, QueueError, Replayable, Result,
};
use sqlx::SqliteConnection;

use super::busy::{self, retry_busy};
use super::row::{db_err, duration_us, now_us};
use super::sql::Sql;
use super::SqliteQueue;
use crate::maintenance::Maintain;
use crate::BoxFuture;

/// Leases reclaimed per statement, so the write lock is never held for long.
const RECLAIM_BATCH: i64 = 1_000;
/// Rows pruned per statement, for the same reason.
const PRUNE_BATCH: i64 = 5_000;

impl SqliteQueue {
    /// Cancels a pending job, or records a cancel request on a running one and tells this
    /// process's workers (others learn of it from their heartbeats).
    pub(super) async fn cancel_job(&self, id: JobId) -> Result<CancelOutcome> {
        let mut turn = self.write_turn().await?;
        let r = retry_busy!(
            sqlx::query_scalar::<_, String>(&self.sql.cancel)
                .bind(id.to_string())
                .bind(now_us())
                .fetch_optional(&mut *turn)
                .await
        );
        drop(turn);
        let state = self.writer.checked(r.map_err(db_err))?;
        Ok(match state.as_deref() {
            Some("running") => {
                self.cancels.notify(id);
                CancelOutcome::Requested
            }
            Some(_) => CancelOutcome::Cancelled,
            None => CancelOutcome::Unchanged,
        })
    }

    /// Runs one write statement in this process's turn; returns the rows it changed.
    async fn write_one(&self, bind: impl Fn(Query<'_>) -> Query<'_>, sql: &str) -> Result<u64> {
        let mut turn = self.write_turn().await?;
        let r = retry_busy!(bind(sqlx::query(sql)).execute(&mut *turn).await);
        drop(turn);
        Ok(self.writer.checked(r.map_err(db_err))?.rows_affected())
    }

    /// Runs a bounded statement again until it changes fewer rows than its bound: big
    /// backlogs are worked off in short write transactions that let claims in between.
    async fn in_batches(
        &self,
        sql: &str,
        limit: i64,
        bind: impl Fn(Query<'_>) -> Query<'_>,
    ) -> Result<u64> {
        let mut total = 0;
        loop {
            let mut turn = self.write_turn().await?;
            let r = retry_busy!(bind(sqlx::query(sql)).bind(limit).execute(&mut *turn).await);
            let n = self.writer.checked(r.map_err(db_err))?.rows_affected();
            drop(turn);
            total += n;
            if n < u64::try_from(limit).unwrap_or(u64::MAX) {
                return Ok(total);
            }
            tokio::task::yield_now().await;
        }
    }
}

/// A statement with its leading values bound.
type Query<'q> = sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>;

#[async_trait]
impl Maintain for SqliteQueue {
    async fn reclaim_expired(&self) -> Result<u64> {
        let now = now_us();
        let n = self
            .in_batches(&self.sql.reclaim, RECLAIM_BATCH, |q| {
                q.bind(now).bind(queue_core::LEASE_EXPIRED)
            })
            .await?;
        if n > 0 {
            // SQLite has no NOTIFY; workers of this process wake here, others poll.
            self.notifier.notify();
        }
        Ok(n)
    }

    async fn prune(&self) -> Result<u64> {
        let now = now_us();
        let cutoff = |d: Duration| now.saturating_sub(duration_us(d));
        let completed = cutoff(self.opts.keep_completed_for);
        let failed = self.opts.keep_failed_for.map(cutoff);
        let latest = failed.map_or(completed, |f| f.max(completed));
        self.in_batches(&self.sql.prune, PRUNE_BATCH, |q| {
            q.bind(now).bind(completed).bind(failed).bind(latest)
        })
        .await
    }

    fn reclaim_every(&self) -> Duration {
        self.opts.reclaim_every(self.lease())
    }

    fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }
}

#[async_trait]
impl Replayable for SqliteQueue {
    async fn replay(&self, id: JobId) -> Result<bool> {
        let ctx = ReplayOf {
            sql: &self.sql,
            id: id.to_string(),
            now: now_us(),
        };
        let mut turn = self.write_turn().await?;
        let replayed = self
            .writer
            .checked(busy::immediate(&mut turn, &ctx, replay_tx).await)?;
        drop(turn);
        if replayed {
            self.notifier.notify();
        }
        Ok(replayed)
    }

    /// Wakes this process's idle workers at once; those of other processes notice the
    /// commit within about 25 ms (see `watch`).
    async fn run_now(&self, id: JobId) -> Result<bool> {
        let id = id.to_string();
        let now = now_us();
        let n = self
            .write_one(|q| q.bind(id.clone()).bind(now), &self.sql.run_now)
            .await?;
        if n > 0 {
            self.notifier.notify();
        }
        Ok(n > 0)
    }

    /// Also frees the unique key the job may still hold (a unique window that outlived
    /// the job): it goes with the row.
    async fn delete(&self, id: JobId) -> Result<bool> {
        let id = id.to_string();
        let n = self
            .write_one(|q| q.bind(id.clone()), &self.sql.delete)
            .await?;
        Ok(n > 0)
    }

    /// Ages are measured on this process's clock, as every SQLite time is. Frees unique
    /// keys like [`Replayable::delete`].
    async fn purge(&self, state: JobState, older_than: Duration, limit: usize) -> Result<u64> {
        check_purge_state(state)?;
        let cutoff = now_us().saturating_sub(duration_us(older_than));
        let limit = i64::try_from(list_limit(limit)).unwrap_or(i64::MAX);
        self.write_one(
            |q| q.bind(state.as_str()).bind(cutoff).bind(limit),
            &self.sql.purge,
        )
        .await
    }
}

/// What the replay transaction needs.
struct ReplayOf<'a> {
    /// The statements.
    sql: &'a Sql,
    /// The job.
    id: String,
    /// Its new due time (µs), also "now" for lapsed unique windows.
    now: i64,
}

/// The body of the replay transaction; whether the job was replayed.
fn replay_tx<'c>(
    conn: &'c mut SqliteConnection,
    r: &'c ReplayOf<'_>,
) -> BoxFuture<'c, Result<bool>> {
    // An `async fn` boxed here, not an async block: sqlx's executor lifetimes otherwise
    // defeat the compiler's `Send` check of the boxed future.
    Box::pin(replay_inner(conn, r))
}

/// See [`replay_tx`]. A key held until the job ends was released when it failed; the
/// replayed job takes it back unless another job has it now, as before the failure.
async fn replay_inner(conn: &mut SqliteConnection, r: &ReplayOf<'_>) -> Result<bool> {
    let replayed: Option<Option<String>> = sqlx::query_scalar(&r.sql.replay)
        .bind(&r.id)
        .bind(r.now)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_err)?;
    let Some(key) = replayed else {
        return Ok(false);
    };
    if let Some(key) = key {
        let keys = serde_json::to_string(&[&key]).map_err(QueueError::backend)?;
        sqlx::query(&r.sql.free_unique)
            .bind(keys)
            .bind(r.now)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
        sqlx::query(&r.sql.retake_unique)
            .bind(&r.id)
            .bind(&key)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
    }
    Ok(true)
}
