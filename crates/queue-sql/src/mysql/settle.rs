//! Settling claims: ack, complete and heartbeat in one statement per batch, nack, discard
//! and snooze in one guarded statement each. Every statement checks the claim token, so a
//! stale worker changes nothing and learns that its lease was lost.
//!
//! MySQL has no `UPDATE … RETURNING`. A batch ack compares the rows it changed with the
//! pairs it sent: all of them is the common case, and answers in one round trip; fewer,
//! and acked.sql reads which jobs it completed, by the marker it left in their token.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use queue_core::{
    CheckedCompletions, Completion, Lease, LeaseStatus, QueueError, Result, MAX_DELAY,
};
use sqlx::Row;

use super::row::{db_err, text};
use super::{capped_us, retry, MySqlQueue};
use crate::rounds::{lost_unless_held, Rounds};
use crate::text::stored_error;

impl MySqlQueue {
    /// Runs ack.sql or complete.sql (`sql`) over `leases`, round by round; returns for
    /// each lease whether its claim completed the job.
    async fn finish(
        &self,
        sql: &str,
        leases: &[Lease],
        outputs: &[Option<&str>],
    ) -> Result<Vec<bool>> {
        let rounds = Rounds::new(leases);
        let mut held = vec![false; rounds.pairs.len()];
        for round in &rounds.rounds {
            let json = if outputs.is_empty() {
                rounds.json(round)
            } else {
                rounds.json_with_outputs(round, outputs, true)
            };
            // Drawn per statement, so a later ack of the same lease finds no job of its own.
            let marker = fastrand::i64(..);
            let changed = retry::on_conflict(|| async {
                sqlx::query(sql)
                    .bind(&json)
                    .bind(marker)
                    .execute(&self.pool)
                    .await
                    .map_err(db_err)
            })
            .await?
            .rows_affected();
            if changed == round.len() as u64 {
                round.iter().for_each(|&i| held[i] = true);
                continue;
            }
            let rows = sqlx::query(&self.sql.acked)
                .bind(&json)
                .bind(marker)
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
            let done: HashSet<String> = rows.iter().filter_map(|r| text(r, 0).ok()).collect();
            for &i in round {
                held[i] = done.contains(&rounds.pairs[i].0.to_string());
            }
        }
        Ok(rounds.of_lease.iter().map(|&i| held[i]).collect())
    }

    /// Completes claimed jobs; one result per lease.
    pub(super) async fn ack_leases(&self, leases: &[Lease]) -> Result<Vec<Result<()>>> {
        if leases.is_empty() {
            return Ok(Vec::new());
        }
        let held = self.finish(&self.sql.ack, leases, &[]).await?;
        Ok(lost_unless_held(held, leases))
    }

    /// Completes claimed jobs, storing their outputs; a batch without any is an ack.
    pub(super) async fn complete_leases(&self, done: &[Completion]) -> Result<Vec<Result<()>>> {
        let checked = CheckedCompletions::new(done, self.opts.max_output);
        if !checked.any_output() {
            let written = self.ack_leases(&checked.leases).await?;
            return Ok(checked.merge(written));
        }
        let held = self
            .finish(&self.sql.complete, &checked.leases, &checked.outputs)
            .await?;
        let written = lost_unless_held(held, &checked.leases);
        Ok(checked.merge(written))
    }

    /// Extends the leases still held by the lease timeout, from now, saying which jobs
    /// have a cancel request.
    pub(super) async fn extend_leases(&self, leases: &[Lease]) -> Result<Vec<LeaseStatus>> {
        if leases.is_empty() {
            return Ok(Vec::new());
        }
        let lease = capped_us(self.lease());
        let rounds = Rounds::new(leases);
        let mut status = vec![LeaseStatus::Lost; rounds.pairs.len()];
        for round in &rounds.rounds {
            let json = rounds.json(round);
            retry::on_conflict(|| async {
                sqlx::query(&self.sql.heartbeat)
                    .bind(&json)
                    .bind(lease)
                    .execute(&self.pool)
                    .await
                    .map_err(db_err)
            })
            .await?;
            let rows = sqlx::query(&self.sql.held)
                .bind(&json)
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
            let mut held = HashMap::with_capacity(rows.len());
            for row in &rows {
                let id = text(row, 0).map_err(|reason| QueueError::Corrupt { id: None, reason })?;
                let requested: bool = row.try_get(1).map_err(db_err)?;
                held.insert(id, requested);
            }
            for &i in round {
                status[i] = match held.get(&rounds.pairs[i].0.to_string()) {
                    Some(true) => LeaseStatus::CancelRequested,
                    Some(false) => LeaseStatus::Held,
                    None => LeaseStatus::Lost,
                };
            }
        }
        Ok(rounds.of_lease.iter().map(|&i| status[i]).collect())
    }

    /// Runs a single-lease statement whose last two values are the id and the token,
    /// after those `bind` adds; no row changed means the claim was lost.
    async fn guarded<'q>(
        &self,
        sql: &'q str,
        lease: &Lease,
        bind: impl Fn(Query<'q>) -> Query<'q>,
    ) -> Result<()> {
        let id = lease.id.to_string();
        let n = retry::on_conflict(|| async {
            bind(sqlx::query(sql))
                .bind(id.clone())
                .bind(lease.token.0)
                .execute(&self.pool)
                .await
                .map_err(db_err)
        })
        .await?
        .rows_affected();
        if n == 0 {
            Err(QueueError::LeaseLost(lease.id))
        } else {
            Ok(())
        }
    }

    /// A failed attempt: back to pending after the backoff, or failed when used up.
    pub(super) async fn nack_lease(&self, lease: &Lease, error: &str) -> Result<()> {
        let policy = self.opts.retry;
        let factor = 1.0 - policy.jitter_fraction() * fastrand::f64();
        let base = capped_us(policy.base());
        // No wait beyond MAX_DELAY, capped or not: a due time further out would not be a
        // DATETIME.
        let cap = if policy.max().is_zero() {
            capped_us(MAX_DELAY)
        } else {
            capped_us(policy.max())
        };
        let error = stored_error(error).into_owned();
        self.guarded(&self.sql.nack, lease, |q| {
            q.bind(base).bind(cap).bind(factor).bind(error.clone())
        })
        .await?;
        if base == 0 {
            // Retried at once (or failed): idle workers may have work again.
            self.notifier.notify();
        }
        Ok(())
    }

    /// Fails the job now with `reason`.
    pub(super) async fn discard_lease(&self, lease: &Lease, reason: &str) -> Result<()> {
        let reason = stored_error(reason).into_owned();
        self.guarded(&self.sql.discard, lease, |q| q.bind(reason.clone()))
            .await
    }

    /// Back to pending after `delay`, attempt given back (cancelled, with a cancel request).
    pub(super) async fn snooze_lease(&self, lease: &Lease, delay: Duration) -> Result<()> {
        // Capped like a delay at enqueue: snooze(Duration::MAX) means "as late as allowed".
        let us = capped_us(delay);
        self.guarded(&self.sql.snooze, lease, |q| q.bind(us))
            .await?;
        if delay.is_zero() {
            self.notifier.notify();
        }
        Ok(())
    }
}

/// A statement with its leading values bound.
type Query<'q> = sqlx::query::Query<'q, sqlx::MySql, sqlx::mysql::MySqlArguments>;
