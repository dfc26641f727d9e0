//! Settling claims: ack and heartbeat in one statement per batch, nack, discard and
//! snooze in one guarded statement each. Every statement checks the claim token, so a
//! stale worker changes nothing and learns that its lease was lost.

use std::collections::{HashMap, HashSet};

use std::time::Duration;

use queue_core::{
    CheckedCompletions, Completion, Lease, LeaseStatus, QueueError, Result, MAX_DELAY,
};

use super::busy::retry_busy;
use super::row::{db_err, duration_us, now_us};
use super::SqliteQueue;
use crate::rounds::{lost_unless_held, Rounds};
use crate::text::stored_error;

/// The longest retry delay (100 years in µs): keeps `now + delay` a valid stored time
/// whatever the policy's base and cap.
const MAX_DELAY_US: i64 = 100 * 365 * 24 * 3600 * 1_000_000;

/// A statement with its leading values and its lease guard bound.
type Query<'q> = sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>;

impl SqliteQueue {
    /// Runs a batch statement (`?1` = `first`, `?2` = the pairs, with `outputs`, one per
    /// lease, unless empty) over `leases`; returns for each lease whether its claim was
    /// still held.
    async fn per_lease(
        &self,
        sql: &str,
        first: i64,
        leases: &[Lease],
        outputs: &[Option<&str>],
    ) -> Result<Vec<bool>> {
        let rounds = Rounds::new(leases);
        let mut held = vec![false; rounds.pairs.len()];
        for round in &rounds.rounds {
            let json = if outputs.is_empty() {
                rounds.json(round)
            } else {
                rounds.json_with_outputs(round, outputs, false)
            };
            let mut turn = self.write_turn().await?;
            let r = retry_busy!(
                sqlx::query_scalar(sql)
                    .bind(first)
                    .bind(&json)
                    .fetch_all(&mut *turn)
                    .await
            );
            drop(turn);
            let ids: Vec<String> = self.writer.checked(r.map_err(db_err))?;
            let ids: HashSet<String> = ids.into_iter().collect();
            for &i in round {
                held[i] = ids.contains(&rounds.pairs[i].0.to_string());
            }
        }
        self.slot_freed();
        Ok(rounds.of_lease.iter().map(|&i| held[i]).collect())
    }

    /// Completes claimed jobs; one result per lease.
    pub(super) async fn ack_leases(&self, leases: &[Lease]) -> Result<Vec<Result<()>>> {
        if leases.is_empty() {
            return Ok(Vec::new());
        }
        let held = self.per_lease(&self.sql.ack, now_us(), leases, &[]).await?;
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
            .per_lease(
                &self.sql.complete,
                now_us(),
                &checked.leases,
                &checked.outputs,
            )
            .await?;
        let written = lost_unless_held(held, &checked.leases);
        Ok(checked.merge(written))
    }

    /// Extends the leases still held by the lease timeout, from now, saying which jobs
    /// have a cancel request. Rounds as in [`Self::per_lease`].
    pub(super) async fn extend_leases(&self, leases: &[Lease]) -> Result<Vec<LeaseStatus>> {
        if leases.is_empty() {
            return Ok(Vec::new());
        }
        let deadline = now_us().saturating_add(duration_us(self.lease()));
        let rounds = Rounds::new(leases);
        let mut status = vec![LeaseStatus::Lost; rounds.pairs.len()];
        for round in &rounds.rounds {
            let json = rounds.json(round);
            let mut turn = self.write_turn().await?;
            let r = retry_busy!(
                sqlx::query_as::<_, (String, bool)>(&self.sql.heartbeat)
                    .bind(deadline)
                    .bind(&json)
                    .fetch_all(&mut *turn)
                    .await
            );
            drop(turn);
            let held: HashMap<String, bool> = self
                .writer
                .checked(r.map_err(db_err))?
                .into_iter()
                .collect();
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

    /// Runs a single-lease statement (`?1` id, `?2` token, then what `bind` adds); no
    /// row changed means the claim was lost.
    async fn guarded<'q>(
        &self,
        sql: &'q str,
        lease: &Lease,
        bind: impl Fn(Query<'q>) -> Query<'q>,
    ) -> Result<()> {
        let id = lease.id.to_string();
        let mut turn = self.write_turn().await?;
        let r = retry_busy!(
            bind(sqlx::query(sql).bind(id.clone()).bind(lease.token.0))
                .execute(&mut *turn)
                .await
        );
        drop(turn);
        let n = self.writer.checked(r.map_err(db_err))?.rows_affected();
        if n == 0 {
            Err(QueueError::LeaseLost(lease.id))
        } else {
            self.slot_freed();
            Ok(())
        }
    }

    /// A failed attempt: back to pending after the backoff, or failed when used up.
    pub(super) async fn nack_lease(&self, lease: &Lease, error: &str) -> Result<()> {
        let policy = self.opts.retry;
        // Jitter drawn here, once per nack: SQLite's random() is an integer, and the
        // policy describes a fraction.
        let factor = 1.0 - policy.jitter_fraction() * fastrand::f64();
        let base = duration_us(policy.base()).min(MAX_DELAY_US);
        let cap = duration_us(policy.max()).min(MAX_DELAY_US);
        let error = stored_error(error).into_owned();
        self.guarded(&self.sql.nack, lease, |q| {
            q.bind(error.clone())
                .bind(now_us())
                .bind(base)
                .bind(cap)
                .bind(factor)
                .bind(MAX_DELAY_US)
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
        self.guarded(&self.sql.discard, lease, |q| {
            q.bind(reason.clone()).bind(now_us())
        })
        .await
    }

    /// Back to pending after `delay`, attempt given back (cancelled, with a cancel request).
    pub(super) async fn snooze_lease(&self, lease: &Lease, delay: Duration) -> Result<()> {
        // Capped like a delay at enqueue: snooze(Duration::MAX) means "as late as allowed",
        // and stays a time that reads back.
        let at = now_us().saturating_add(duration_us(delay.min(MAX_DELAY)));
        self.guarded(&self.sql.snooze, lease, |q| q.bind(at).bind(now_us()))
            .await?;
        if delay.is_zero() {
            self.notifier.notify();
        }
        Ok(())
    }
}
