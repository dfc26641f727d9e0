//! The queue traits on SQLite.

use std::cmp::Reverse;
use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_trait::async_trait;
use queue_core::{
    list_limit, Browsable, Job, JobId, JobState, Lease, NewJob, Queue, QueueError, Replayable,
    Result, Stats, Subscription,
};

use super::busy::retry_busy;
use super::row::{db_err, decode, decode_all};
use super::{enqueue, SqliteQueue};
use crate::maintenance::Maintain;

impl SqliteQueue {
    fn lease_deadline(&self, now: i64) -> i64 {
        now.saturating_add(i64::try_from(self.lease().as_micros()).unwrap_or(i64::MAX))
    }

    /// `[[id, token], …]` for the batch statements.
    fn pairs(leases: &[Lease]) -> String {
        serde_json::Value::Array(
            leases
                .iter()
                .map(|l| serde_json::json!([l.id.to_string(), l.token.0]))
                .collect(),
        )
        .to_string()
    }

    /// Which of `leases` are in the (id, token) rows a batch statement returned.
    fn matched(leases: &[Lease], rows: Vec<(String, i64)>) -> Vec<bool> {
        let rows: HashSet<(String, i64)> = rows.into_iter().collect();
        leases
            .iter()
            .map(|l| rows.contains(&(l.id.to_string(), l.token.0)))
            .collect()
    }

    fn lost_if_none(n: u64, lease: &Lease) -> Result<()> {
        if n == 0 {
            Err(QueueError::LeaseLost(lease.id))
        } else {
            Ok(())
        }
    }

    async fn set_aside(&self, raw_id: &str, reason: &str) {
        tracing::error!(
            id = raw_id,
            reason,
            "claimed a job row that cannot be decoded; marking it failed"
        );
        let r = retry_busy!(
            sqlx::query(&self.sql.fail_corrupt)
                .bind(raw_id)
                .bind(format!("corrupt row: {reason}"))
                .bind(Self::now())
                .execute(&self.pool)
                .await
        );
        if let Err(e) = r {
            tracing::error!(id = raw_id, error = %e, "could not mark the corrupt row failed");
        }
    }
}

#[async_trait]
impl Queue for SqliteQueue {
    async fn enqueue(&self, job: NewJob) -> Result<JobId> {
        let mut ids = self.enqueue_batch(vec![job]).await?;
        ids.pop()
            .ok_or_else(|| QueueError::InvalidJob("nothing to enqueue".into()))
    }

    async fn enqueue_batch(&self, jobs: Vec<NewJob>) -> Result<Vec<JobId>> {
        self.check_open()?;
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        let ids = enqueue::insert(&mut conn, &self.sql, jobs).await?;
        self.notifier.notify();
        Ok(ids)
    }

    async fn dequeue_batch(&self, kinds: &[&str], max: usize) -> Result<Vec<Job>> {
        if max == 0 {
            return Ok(Vec::new());
        }
        let now = Self::now();
        let kinds_json = serde_json::json!(kinds).to_string();
        let rows = retry_busy!(
            sqlx::query(&self.sql.claim)
                .bind(now)
                .bind(self.lease_deadline(now))
                .bind(&kinds_json)
                .bind(i64::try_from(max).unwrap_or(i64::MAX))
                .fetch_all(&self.pool)
                .await
        )
        .map_err(db_err)?;
        let mut jobs = Vec::with_capacity(rows.len());
        for row in &rows {
            match decode(row) {
                Ok(job) => jobs.push(job),
                Err((Some(raw_id), reason)) => self.set_aside(&raw_id, &reason).await,
                Err((None, reason)) => {
                    tracing::error!(reason, "claimed a job row without a readable id")
                }
            }
        }
        // RETURNING does not keep the claim's order.
        jobs.sort_by_key(|j| (Reverse(j.priority), j.scheduled_at, j.id));
        Ok(jobs)
    }

    async fn ack_batch(&self, leases: &[Lease]) -> Result<Vec<Result<()>>> {
        if leases.is_empty() {
            return Ok(Vec::new());
        }
        let pairs = Self::pairs(leases);
        let rows: Vec<(String, i64)> = retry_busy!(
            sqlx::query_as(&self.sql.ack)
                .bind(Self::now())
                .bind(&pairs)
                .fetch_all(&self.pool)
                .await
        )
        .map_err(db_err)?;
        Ok(Self::matched(leases, rows)
            .into_iter()
            .zip(leases)
            .map(|(ok, l)| {
                if ok {
                    Ok(())
                } else {
                    Err(QueueError::LeaseLost(l.id))
                }
            })
            .collect())
    }

    async fn nack(&self, lease: &Lease, error: &str) -> Result<()> {
        let factor = 1.0 - self.opts.retry.jitter * fastrand::f64();
        let n = retry_busy!(
            sqlx::query(&self.sql.nack)
                .bind(lease.id.to_string())
                .bind(lease.token.0)
                .bind(error)
                .bind(&self.delays_json)
                .bind(factor)
                .bind(Self::now())
                .execute(&self.pool)
                .await
        )
        .map_err(db_err)?
        .rows_affected();
        Self::lost_if_none(n, lease)
    }

    async fn discard(&self, lease: &Lease, reason: &str) -> Result<()> {
        let n = retry_busy!(
            sqlx::query(&self.sql.discard)
                .bind(lease.id.to_string())
                .bind(lease.token.0)
                .bind(reason)
                .bind(Self::now())
                .execute(&self.pool)
                .await
        )
        .map_err(db_err)?
        .rows_affected();
        Self::lost_if_none(n, lease)
    }

    async fn snooze(&self, lease: &Lease, delay: Duration) -> Result<()> {
        let at = Self::now().saturating_add(i64::try_from(delay.as_micros()).unwrap_or(i64::MAX));
        let n = retry_busy!(
            sqlx::query(&self.sql.snooze)
                .bind(lease.id.to_string())
                .bind(lease.token.0)
                .bind(at)
                .execute(&self.pool)
                .await
        )
        .map_err(db_err)?
        .rows_affected();
        Self::lost_if_none(n, lease)?;
        if delay.is_zero() {
            self.notifier.notify();
        }
        Ok(())
    }

    async fn heartbeat(&self, leases: &[Lease]) -> Result<Vec<bool>> {
        if leases.is_empty() {
            return Ok(Vec::new());
        }
        let pairs = Self::pairs(leases);
        let rows: Vec<(String, i64)> = retry_busy!(
            sqlx::query_as(&self.sql.heartbeat)
                .bind(self.lease_deadline(Self::now()))
                .bind(&pairs)
                .fetch_all(&self.pool)
                .await
        )
        .map_err(db_err)?;
        Ok(Self::matched(leases, rows))
    }

    async fn cancel(&self, id: JobId) -> Result<bool> {
        let n = retry_busy!(
            sqlx::query(&self.sql.cancel)
                .bind(id.to_string())
                .bind(Self::now())
                .execute(&self.pool)
                .await
        )
        .map_err(db_err)?
        .rows_affected();
        Ok(n > 0)
    }

    async fn reclaim(&self) -> Result<u64> {
        self.reclaim_expired().await
    }

    fn lease_timeout(&self) -> Duration {
        self.lease()
    }

    fn set_lease_timeout(&self, timeout: Duration) {
        let us = timeout.as_micros().clamp(1_000, u128::from(u64::MAX)) as u64;
        self.lease_us.store(us, Ordering::Relaxed);
    }

    fn subscribe(&self) -> Subscription {
        self.notifier.subscribe()
    }

    async fn close(&self) -> Result<()> {
        self.closed.store(true, Ordering::Release);
        Ok(())
    }
}

#[async_trait]
impl Browsable for SqliteQueue {
    async fn list_jobs(&self, state: Option<JobState>, limit: usize) -> Result<Vec<Job>> {
        let limit = i64::try_from(list_limit(limit)).unwrap_or(i64::MAX);
        let rows = match state {
            None => sqlx::query(&self.sql.list_all).bind(limit),
            Some(s) => sqlx::query(&self.sql.list_state)
                .bind(s.as_str())
                .bind(limit),
        }
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(decode_all(&rows))
    }

    async fn get_job(&self, id: JobId) -> Result<Option<Job>> {
        let row = sqlx::query(&self.sql.get)
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        match row {
            None => Ok(None),
            Some(row) => decode(&row)
                .map(Some)
                .map_err(|(_, reason)| QueueError::Corrupt {
                    id: Some(id),
                    reason,
                }),
        }
    }

    async fn stats(&self) -> Result<Stats> {
        let rows: Vec<(String, i64)> = sqlx::query_as(&self.sql.stats)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        let mut stats = Stats::default();
        for (state, n) in rows {
            match state.parse::<JobState>() {
                Ok(s) => *stats.get_mut(s) = u64::try_from(n).unwrap_or(0),
                Err(_) => tracing::warn!(state, rows = n, "rows with an unknown state"),
            }
        }
        Ok(stats)
    }
}

#[async_trait]
impl Replayable for SqliteQueue {
    async fn replay(&self, id: JobId) -> Result<bool> {
        let n = retry_busy!(
            sqlx::query(&self.sql.replay)
                .bind(id.to_string())
                .bind(Self::now())
                .execute(&self.pool)
                .await
        )
        .map_err(db_err)?
        .rows_affected();
        if n > 0 {
            self.notifier.notify();
        }
        Ok(n > 0)
    }
}
