//! Claiming: in one transaction, lock due rows priority by priority with
//! `FOR UPDATE SKIP LOCKED` (claim.sql), then mark the good ones running by primary key
//! (claim_mark.sql) and set aside the ones that cannot be decoded (fail_corrupt.sql).

use std::sync::Arc;

use queue_core::{ClaimToken, Job, JobState, Lease, QueueError, Result};
use sqlx::mysql::MySqlRow;
use sqlx::{MySql, Row, Transaction};
use time::OffsetDateTime;

use super::row::{db_err, decode, Undecodable};
use super::{retry, MySqlQueue, BEGIN};
use crate::resume::Point;
use crate::text::stored_error;

/// Where claim.sql puts the database's clock: after `{columns}`.
const CLOCK: usize = super::row::TAIL;
impl MySqlQueue {
    /// Claims up to `max` due jobs of `kinds` (any kind when empty), best first.
    pub(super) async fn claim(&self, kinds: &[&str], max: usize) -> Result<Vec<Job>> {
        if max == 0 {
            return Ok(Vec::new());
        }
        let sql = self.claim_statements(kinds.len());
        let sql = sql.as_ref();
        crate::refill::claim_refilling(max, |want| self.claim_resuming(sql, kinds, want)).await
    }

    /// One claim, resuming after this process's last full claim of `kinds` when there was
    /// one (see [`crate::resume`]).
    async fn claim_resuming(
        &self,
        sql: &Statements,
        kinds: &[&str],
        max: usize,
    ) -> Result<(Vec<Job>, usize)> {
        let start = self.resume.start(kinds);
        let after = start.after.as_ref();
        let claimed = retry::on_conflict(|| self.claim_once(sql, after, kinds, max)).await;
        match &claimed {
            Ok((jobs, bad)) => self.resume.claimed(start, max, jobs.len() + bad, jobs),
            Err(_) => self.resume.claimed(start, max, 0, &[]),
        }
        claimed
    }

    /// One claim transaction for up to `max` jobs; returns the good jobs and how many rows
    /// could not be decoded (set aside).
    async fn claim_once(
        &self,
        sql: &Statements,
        after: Option<&Point>,
        kinds: &[&str],
        max: usize,
    ) -> Result<(Vec<Job>, usize)> {
        let mut tx = self.pool.begin_with(BEGIN).await.map_err(db_err)?;
        let rows = self.pick(&mut tx, sql, after, kinds, max).await?;
        let Some(first) = rows.first() else {
            tx.commit().await.map_err(db_err)?;
            return Ok((Vec::new(), 0));
        };
        let now: OffsetDateTime = first.try_get(CLOCK).map_err(db_err)?;
        let expires_at = now + self.lease();

        let mut jobs = Vec::with_capacity(rows.len());
        let mut bad = 0;
        for row in &rows {
            match decode(row, false) {
                Ok(mut job) => {
                    // Every claim of a job draws a new token: the lease is (id, token).
                    let token = fastrand::i64(..);
                    job.state = JobState::Running;
                    job.attempts += 1;
                    job.lease = Some(Lease {
                        id: job.id,
                        token: ClaimToken(token),
                        expires_at,
                    });
                    jobs.push(job);
                }
                Err(undecodable) => {
                    bad += 1;
                    set_aside(&mut tx, &self.sql.fail_corrupt, undecodable).await?;
                }
            }
        }
        if !jobs.is_empty() {
            let pairs: Vec<(String, i64)> = jobs
                .iter()
                .filter_map(|j| j.lease.map(|l| (j.id.to_string(), l.token.0)))
                .collect();
            let pairs = serde_json::to_string(&pairs).map_err(QueueError::backend)?;
            sqlx::query(&self.sql.claim_mark)
                .bind(pairs)
                .bind(expires_at)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok((jobs, bad))
    }

    /// Locks up to `max` due rows, one priority at a time from the highest down, each read
    /// up to its first job not yet due; the priority of `after` from after it.
    async fn pick(
        &self,
        tx: &mut Transaction<'static, MySql>,
        sql: &Statements,
        after: Option<&Point>,
        kinds: &[&str],
        max: usize,
    ) -> Result<Vec<MySqlRow>> {
        let mut rows = Vec::new();
        let mut below = i64::from(i32::MAX) + 1;
        while rows.len() < max {
            let priority: Option<i32> = sqlx::query_scalar(&self.sql.next_priority)
                .bind(below)
                .fetch_optional(&mut **tx)
                .await
                .map_err(db_err)?;
            let Some(priority) = priority else { break };
            let resumed = after.filter(|p| p.rank == -i64::from(priority));
            let mut q = match resumed {
                Some(p) => sqlx::query(&sql.resumed)
                    .bind(priority)
                    .bind(p.due)
                    .bind(p.due)
                    .bind(p.id.as_str()),
                None => sqlx::query(&sql.head).bind(priority),
            };
            for kind in kinds {
                q = q.bind(*kind);
            }
            let limit = i64::try_from(max - rows.len()).unwrap_or(i64::MAX);
            rows.extend(q.bind(limit).fetch_all(&mut **tx).await.map_err(db_err)?);
            below = i64::from(priority);
        }
        Ok(rows)
    }
}

/// claim.sql as a claim from the head of a priority and as one resumed after a point.
pub(super) struct Statements {
    head: String,
    resumed: String,
}

impl MySqlQueue {
    /// The claim statements for workers of `kinds` kinds, rendered once per count rather
    /// than on every claim.
    fn claim_statements(&self, kinds: usize) -> Arc<Statements> {
        let mut rendered = self.claims.lock().unwrap_or_else(|p| p.into_inner());
        rendered
            .entry(kinds)
            .or_insert_with(|| {
                Arc::new(Statements {
                    head: self.sql.claim(kinds, false),
                    resumed: self.sql.claim(kinds, true),
                })
            })
            .clone()
    }
}

/// Marks a claimed row that cannot be decoded as failed with the reason, so it is not
/// claimed again and admins can see it. The claim's transaction holds its lock.
async fn set_aside(
    tx: &mut Transaction<'static, MySql>,
    sql: &str,
    bad: Undecodable,
) -> Result<()> {
    tracing::error!(
        id = ?bad.raw_id,
        reason = %bad.reason,
        "claimed a job row that cannot be decoded; marking it failed"
    );
    let Some(raw_id) = bad.raw_id else {
        // The id is CHAR and the key: only a driver that cannot read it at all gets here.
        // The row stays pending; every claim meets it again and logs it.
        return Ok(());
    };
    sqlx::query(sql)
        .bind(stored_error(&format!("corrupt row: {}", bad.reason)).into_owned())
        .bind(raw_id)
        .execute(&mut **tx)
        .await
        .map_err(db_err)?;
    Ok(())
}
