//! State changes made without a lease: cancel, replay, run now, delete and purge (admin
//! calls), and lease reclaim and retention pruning (the maintenance timer, or
//! `Queue::reclaim`).

use std::sync::atomic::Ordering;
use std::time::Duration;

use async_trait::async_trait;
use queue_core::{
    check_purge_state, list_limit, CancelOutcome, JobId, JobState, QueueError, Replayable, Result,
};
use sqlx::{MySql, Transaction};

use super::row::{db_err, number, DUPLICATE_KEY};
use super::{capped_us, retry, MySqlQueue, BEGIN};
use crate::maintenance::Maintain;

/// Leases reclaimed per statement, so one statement never holds many locks.
const RECLAIM_BATCH: i64 = 1_000;
/// Rows pruned per statement, for the same reason.
const PRUNE_BATCH: i64 = 5_000;

/// A statement with its leading values bound.
type Query<'q> = sqlx::query::Query<'q, MySql, sqlx::mysql::MySqlArguments>;

impl MySqlQueue {
    /// Cancels a pending job, or records a cancel request on a running one and tells this
    /// process's workers (others learn of it from their heartbeats).
    pub(super) async fn cancel_job(&self, id: JobId) -> Result<CancelOutcome> {
        let raw = id.to_string();
        let raw = raw.as_str();
        if self
            .write(&self.sql.cancel_pending, |q| q.bind(raw))
            .await?
            > 0
        {
            return Ok(CancelOutcome::Cancelled);
        }
        if self
            .write(&self.sql.cancel_running, |q| q.bind(raw))
            .await?
            > 0
        {
            self.cancels.notify(id);
            return Ok(CancelOutcome::Requested);
        }
        // It may have gone from running back to pending (a nack) in between.
        if self
            .write(&self.sql.cancel_pending, |q| q.bind(raw))
            .await?
            > 0
        {
            return Ok(CancelOutcome::Cancelled);
        }
        Ok(CancelOutcome::Unchanged)
    }

    /// Runs one statement (retried on lock conflicts); the rows it matched.
    async fn write<'q>(&self, sql: &'q str, bind: impl Fn(Query<'q>) -> Query<'q>) -> Result<u64> {
        let done = retry::on_conflict(|| async {
            bind(sqlx::query(sql))
                .execute(&self.pool)
                .await
                .map_err(db_err)
        })
        .await?;
        Ok(done.rows_affected())
    }

    /// Runs a bounded statement (its last value the bound) again until it changes fewer
    /// rows than the bound: big backlogs are worked off in short statements.
    async fn in_batches<'q>(
        &self,
        sql: &'q str,
        limit: i64,
        bind: impl Fn(Query<'q>) -> Query<'q>,
    ) -> Result<u64> {
        let mut total = 0;
        loop {
            let n = self.write(sql, |q| bind(q).bind(limit)).await?;
            total += n;
            if n < u64::try_from(limit).unwrap_or(u64::MAX) || self.is_closed() {
                return Ok(total);
            }
            tokio::task::yield_now().await;
        }
    }

    /// The replay transaction; whether the job was replayed.
    async fn replay_once(&self, id: &str) -> Result<bool> {
        let mut tx = self.pool.begin_with(BEGIN).await.map_err(db_err)?;
        let picked: Option<Option<Vec<u8>>> = sqlx::query_scalar(&self.sql.replay_pick)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
        let Some(key) = picked else {
            return Ok(false);
        };
        sqlx::query(&self.sql.replay)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        if let Some(key) = key {
            retake_key(&mut tx, &self.sql, id, key).await?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(true)
    }
}

/// Gives replayed job `id` its unique key again, unless another job holds it now, as
/// before the failure. A key held until the job ended was released when it failed.
async fn retake_key(
    tx: &mut Transaction<'static, MySql>,
    sql: &super::sql::Sql,
    id: &str,
    key: Vec<u8>,
) -> Result<()> {
    let key = String::from_utf8(key).map_err(|e| QueueError::Corrupt {
        id: id.parse().ok(),
        reason: format!("unique key: {e}"),
    })?;
    let keys = serde_json::to_string(&[&key]).map_err(QueueError::backend)?;
    sqlx::query(&sql.free_unique)
        .bind(keys)
        .execute(&mut **tx)
        .await
        .map_err(db_err)?;
    let retaken = sqlx::query(&sql.retake_unique)
        .bind(id)
        .execute(&mut **tx)
        .await;
    match retaken {
        // Another job holds it: the statement alone is undone.
        Err(e) if number(&e) == Some(DUPLICATE_KEY) => Ok(()),
        other => other.map(|_| ()).map_err(db_err),
    }
}

#[async_trait]
impl Maintain for MySqlQueue {
    async fn reclaim_expired(&self) -> Result<u64> {
        let n = self
            .in_batches(&self.sql.reclaim, RECLAIM_BATCH, |q| {
                q.bind(queue_core::LEASE_EXPIRED)
            })
            .await?;
        if n > 0 {
            self.notifier.notify();
            self.wake_others().await;
        }
        Ok(n)
    }

    async fn prune(&self) -> Result<u64> {
        let completed = capped_us(self.opts.keep_completed_for);
        let failed = self.opts.keep_failed_for.map(capped_us);
        let shorter = failed.map_or(completed, |f| f.min(completed));
        self.in_batches(&self.sql.prune, PRUNE_BATCH, |q| {
            q.bind(shorter).bind(completed).bind(failed)
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
impl Replayable for MySqlQueue {
    async fn replay(&self, id: JobId) -> Result<bool> {
        let raw = id.to_string();
        let replayed = retry::on_conflict(|| self.replay_once(&raw)).await?;
        if replayed {
            self.notifier.notify();
            self.wake_others().await;
        }
        Ok(replayed)
    }

    /// Wakes this process's idle workers at once; those of other processes within a
    /// second (see `watch`).
    async fn run_now(&self, id: JobId) -> Result<bool> {
        let raw = id.to_string();
        let n = self
            .write(&self.sql.run_now, |q| q.bind(raw.as_str()))
            .await?;
        if n > 0 {
            self.notifier.notify();
            self.wake_others().await;
        }
        Ok(n > 0)
    }

    /// Also frees the unique key the job may still hold (a unique window that outlived
    /// the job): it goes with the row.
    async fn delete(&self, id: JobId) -> Result<bool> {
        let raw = id.to_string();
        let n = self
            .write(&self.sql.delete, |q| q.bind(raw.as_str()))
            .await?;
        Ok(n > 0)
    }

    /// Ages are measured on the database's clock. Frees unique keys like
    /// [`Replayable::delete`].
    async fn purge(&self, state: JobState, older_than: Duration, limit: usize) -> Result<u64> {
        check_purge_state(state)?;
        let age = capped_us(older_than);
        let limit = i64::try_from(list_limit(limit)).unwrap_or(i64::MAX);
        self.write(&self.sql.purge, |q| {
            q.bind(state.as_str()).bind(age).bind(limit)
        })
        .await
    }
}
