//! The queue traits on Postgres.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_trait::async_trait;
use queue_core::{
    CancelOutcome, CancelRequests, CheckedCompletions, Completion, Job, JobId, Lease, LeaseStatus,
    NewJob, Queue, QueueError, Result, Subscription, MAX_DELAY,
};
use sqlx::Row;

use super::row::{db_err, decode};
use super::{enqueue, PgQueue};
use crate::maintenance::Maintain;
use crate::text::stored_error;

/// The position of `claim_token` in sql/postgres/columns.sql.
const TOKEN_COLUMN: usize = 11;
/// The position of `limited_pick` in sql/postgres/claim.sql: after the tail.
const LIMITED_COLUMN: usize = super::row::TAIL + 3;

impl PgQueue {
    fn lease_s(&self) -> f64 {
        self.lease().as_secs_f64()
    }

    /// Sends `leases` as the (ids, tokens) arrays the batch statements take.
    fn pairs(leases: &[Lease]) -> (Vec<String>, Vec<i64>) {
        leases.iter().map(|l| (l.id.to_string(), l.token.0)).unzip()
    }

    /// Runs a single-lease statement; no row means the claim was lost.
    async fn guarded(
        &self,
        sql: &str,
        lease: &Lease,
        bind: impl FnOnce(GuardedQuery<'_>) -> GuardedQuery<'_>,
    ) -> Result<()> {
        let q = sqlx::query(sql)
            .bind(lease.id.to_string())
            .bind(lease.token.0);
        let n = bind(q)
            .execute(&self.pool)
            .await
            .map_err(db_err)?
            .rows_affected();
        if n == 0 {
            Err(QueueError::LeaseLost(lease.id))
        } else {
            Ok(())
        }
    }

    /// Claims up to `max` due jobs in one statement; rows that cannot be decoded are set
    /// aside. Returns the good jobs and how many rows were set aside (or left to their
    /// lease when not even their id could be read).
    async fn claim_once(&self, kinds: &[&str], max: usize) -> Result<(Vec<Job>, usize)> {
        let start = self.resume.start(kinds);
        let after = start.after.as_ref();
        let rows = sqlx::query(&self.sql.claim)
            .bind(kinds)
            .bind(i64::try_from(max).unwrap_or(i64::MAX))
            .bind(self.lease_s())
            .bind(after.map(|p| p.rank))
            .bind(after.map(|p| p.due))
            .bind(after.map(|p| p.id.as_str()))
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        let mut jobs = Vec::with_capacity(rows.len());
        let mut bad = 0;
        // Jobs that limits let start were not taken by the plain scan: the resume point
        // follows the plain scan's jobs alone.
        let mut limited = 0;
        let mut plain = Vec::new();
        for row in &rows {
            let by_limit: bool = row.try_get(LIMITED_COLUMN).unwrap_or(false);
            if by_limit {
                limited += 1;
            }
            match decode(row) {
                Ok(job) => {
                    if !by_limit {
                        plain.push(job.clone());
                    }
                    jobs.push(job)
                }
                Err((raw_id, reason)) => {
                    bad += 1;
                    // The claim always sets a token; read apart from the rest of the row.
                    let token: Option<i64> = row.try_get(TOKEN_COLUMN).ok().flatten();
                    match (raw_id, token) {
                        (Some(raw_id), Some(token)) => {
                            self.set_aside(&raw_id, token, &reason).await
                        }
                        (raw_id, _) => tracing::error!(
                            id = ?raw_id,
                            reason,
                            "claimed a job row that cannot be decoded nor set aside; \
                             its lease will run out"
                        ),
                    }
                }
            }
        }
        self.resume.claimed(
            start,
            max.saturating_sub(limited),
            rows.len().saturating_sub(limited),
            &plain,
        );
        Ok((jobs, bad))
    }

    async fn set_aside(&self, raw_id: &str, token: i64, reason: &str) {
        tracing::error!(
            id = raw_id,
            reason,
            "claimed a job row that cannot be decoded; marking it failed"
        );
        let r = sqlx::query(&self.sql.fail_corrupt)
            .bind(raw_id)
            .bind(token)
            .bind(stored_error(&format!("corrupt row: {reason}")).into_owned())
            .execute(&self.pool)
            .await;
        if let Err(e) = r {
            tracing::error!(id = raw_id, error = %queue_core::ErrorChain(&e), "could not mark the corrupt row failed");
        }
    }
}

type GuardedQuery<'q> = sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>;

#[async_trait]
impl Queue for PgQueue {
    fn name(&self) -> &str {
        &self.opts.table
    }

    async fn enqueue(&self, job: NewJob) -> Result<JobId> {
        queue_core::enqueue_one(self, job).await
    }

    async fn enqueue_batch(&self, jobs: Vec<NewJob>) -> Result<Vec<JobId>> {
        self.check_open()?;
        self.resume.enqueuing(&jobs);
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        let ids = enqueue::insert(&mut conn, &self.sql, jobs, true).await?;
        self.notifier.notify();
        Ok(ids)
    }

    async fn dequeue_batch(&self, kinds: &[&str], max: usize) -> Result<Vec<Job>> {
        if max == 0 {
            return Ok(Vec::new());
        }
        crate::refill::claim_refilling(max, |want| self.claim_once(kinds, want)).await
    }

    async fn ack_batch(&self, leases: &[Lease]) -> Result<Vec<Result<()>>> {
        if leases.is_empty() {
            return Ok(Vec::new());
        }
        let (ids, tokens) = Self::pairs(leases);
        let sql = if self.opts.keep_completed_for.is_zero() {
            &self.sql.ack_delete
        } else {
            &self.sql.ack
        };
        let done: Vec<(String, i64)> = sqlx::query_as(sql)
            .bind(&ids)
            .bind(&tokens)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        let done: HashSet<(String, i64)> = done.into_iter().collect();
        Ok(ids
            .into_iter()
            .zip(tokens)
            .zip(leases)
            .map(|(pair, l)| {
                if done.contains(&pair) {
                    Ok(())
                } else {
                    Err(QueueError::LeaseLost(l.id))
                }
            })
            .collect())
    }

    /// With `keep_completed_for` of zero the ack deletes the row, so no output is kept.
    async fn complete_batch(&self, done: &[Completion]) -> Result<Vec<Result<()>>> {
        let checked = CheckedCompletions::new(done, self.opts.max_output);
        if !checked.any_output() || self.opts.keep_completed_for.is_zero() {
            let written = self.ack_batch(&checked.leases).await?;
            return Ok(checked.merge(written));
        }
        let (ids, tokens) = Self::pairs(&checked.leases);
        let done: Vec<(String, i64)> = sqlx::query_as(&self.sql.complete)
            .bind(&ids)
            .bind(&tokens)
            .bind(&checked.outputs)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        let done: HashSet<(String, i64)> = done.into_iter().collect();
        let written = ids
            .into_iter()
            .zip(tokens)
            .zip(&checked.leases)
            .map(|(pair, l)| {
                if done.contains(&pair) {
                    Ok(())
                } else {
                    Err(QueueError::LeaseLost(l.id))
                }
            })
            .collect();
        Ok(checked.merge(written))
    }

    async fn nack(&self, lease: &Lease, error: &str) -> Result<()> {
        let p = self.opts.retry;
        // No wait beyond MAX_DELAY, capped or not: a due time further out would not read
        // back as a time (nor, beyond year 294276, be stored).
        let cap = if p.max().is_zero() {
            MAX_DELAY
        } else {
            p.max().min(MAX_DELAY)
        }
        .as_secs_f64();
        let factor = 1.0 - p.jitter_fraction() * fastrand::f64();
        self.guarded(&self.sql.nack, lease, |q| {
            q.bind(stored_error(error).into_owned())
                .bind(p.base().as_secs_f64())
                .bind(cap)
                .bind(factor)
        })
        .await
    }

    async fn discard(&self, lease: &Lease, reason: &str) -> Result<()> {
        self.guarded(&self.sql.discard, lease, |q| {
            q.bind(stored_error(reason).into_owned())
        })
        .await
    }

    async fn snooze(&self, lease: &Lease, delay: Duration) -> Result<()> {
        // Capped like a delay at enqueue: snooze(Duration::MAX) means "as late as allowed".
        let secs = delay.min(MAX_DELAY).as_secs_f64();
        self.guarded(&self.sql.snooze, lease, |q| q.bind(secs))
            .await?;
        if delay.is_zero() {
            self.notifier.notify();
        }
        Ok(())
    }

    async fn heartbeat(&self, leases: &[Lease]) -> Result<Vec<LeaseStatus>> {
        if leases.is_empty() {
            return Ok(Vec::new());
        }
        let (ids, tokens) = Self::pairs(leases);
        let held: Vec<(String, i64, bool)> = sqlx::query_as(&self.sql.heartbeat)
            .bind(&ids)
            .bind(&tokens)
            .bind(self.lease_s())
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        let held: HashMap<(String, i64), bool> = held
            .into_iter()
            .map(|(id, token, requested)| ((id, token), requested))
            .collect();
        Ok(ids
            .into_iter()
            .zip(tokens)
            .map(|p| match held.get(&p) {
                Some(true) => LeaseStatus::CancelRequested,
                Some(false) => LeaseStatus::Held,
                None => LeaseStatus::Lost,
            })
            .collect())
    }

    async fn cancel(&self, id: JobId) -> Result<CancelOutcome> {
        let id = id.to_string();
        let state: Option<String> = sqlx::query_scalar(&self.sql.cancel)
            .bind(&id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        match state.as_deref() {
            Some("running") => {
                // Every process listening on the table's channel, this one included, hears
                // it; a lost notification is made up for by the next heartbeat.
                sqlx::query(&self.sql.notify_cancel)
                    .bind(&self.opts.table)
                    .bind(&id)
                    .execute(&self.pool)
                    .await
                    .map_err(db_err)?;
                Ok(CancelOutcome::Requested)
            }
            Some(_) => Ok(CancelOutcome::Cancelled),
            None => Ok(CancelOutcome::Unchanged),
        }
    }

    async fn reclaim(&self) -> Result<u64> {
        self.reclaim_expired().await
    }

    fn lease_timeout(&self) -> Duration {
        self.lease()
    }

    fn set_lease_timeout(&self, timeout: Duration) {
        self.lease_us
            .store(super::lease_us(timeout).max(1_000), Ordering::Relaxed);
    }

    fn subscribe(&self) -> Subscription {
        self.notifier.subscribe()
    }

    /// Requests announced by NOTIFY on the table's channel, from any process (with
    /// [`SqlOptions::notifications`](crate::SqlOptions::notifications) on; otherwise the
    /// heartbeat alone tells workers).
    fn cancel_requests(&self) -> CancelRequests {
        self.cancels.listen()
    }

    async fn next_due(&self, kinds: &[&str]) -> Option<Duration> {
        // A hint: on error the worker just polls.
        let secs: Option<f64> = sqlx::query_scalar(&self.sql.next_due)
            .bind(kinds)
            .fetch_one(&self.pool)
            .await
            .ok()?;
        secs.map(|s| Duration::from_secs_f64(s.clamp(0.0, MAX_DELAY.as_secs_f64())))
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
