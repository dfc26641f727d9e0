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
    /// one (see [`crate::resume`]). Only the plain claim's jobs move the resume point.
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
            Ok(c) => {
                let plain = &c.jobs[c.limited_jobs..];
                self.resume
                    .claimed(start, c.plain_asked, c.plain_rows, plain)
            }
            Err(_) => self.resume.claimed(start, max, 0, &[]),
        }
        claimed.map(|c| (c.jobs, c.bad))
    }

    /// One claim transaction for up to `max` jobs: the limited kinds' first (see
    /// [`super::limited`]), then the plain claim for the rest of the batch.
    async fn claim_once(
        &self,
        sql: &Statements,
        after: Option<&Point>,
        kinds: &[&str],
        max: usize,
    ) -> Result<Claimed> {
        let mut tx = self.pool.begin_with(BEGIN).await.map_err(db_err)?;
        let first = sqlx::query(&self.sql.claim_first)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;
        let top: Option<i32> = first.try_get(0).map_err(db_err)?;
        let limited = limited_kinds(first.try_get(1).map_err(db_err)?, kinds)?;
        let mut rows = if limited.is_empty() {
            Vec::new()
        } else {
            self.pick_limited(&mut tx, &limited, max, top).await?
        };
        let limited_rows = rows.len();
        let plain_asked = max - limited_rows;
        // A worker of limited kinds only has nothing left for the plain claim.
        let all_limited = !kinds.is_empty() && kinds.iter().all(|k| limited.iter().any(|l| l == k));
        if plain_asked > 0 && !all_limited {
            let resumed = after.map(|p| (sql.resumed.as_str(), p));
            let plain = self
                .pick(&mut tx, &sql.head, resumed, kinds, plain_asked, Some(top))
                .await?;
            rows.extend(plain);
        }
        let plain_rows = rows.len() - limited_rows;
        let Some(first) = rows.first() else {
            tx.commit().await.map_err(db_err)?;
            return Ok(Claimed::default());
        };
        let now: OffsetDateTime = first.try_get(CLOCK).map_err(db_err)?;
        let expires_at = now + self.lease();

        let mut claimed = Claimed {
            jobs: Vec::with_capacity(rows.len()),
            plain_asked,
            plain_rows,
            ..Claimed::default()
        };
        for (i, row) in rows.iter().enumerate() {
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
                    claimed.jobs.push(job);
                    if i < limited_rows {
                        claimed.limited_jobs += 1;
                    }
                }
                Err(undecodable) => {
                    claimed.bad += 1;
                    set_aside(&mut tx, &self.sql.fail_corrupt, undecodable).await?;
                }
            }
        }
        if !claimed.jobs.is_empty() {
            let pairs: Vec<(String, i64)> = claimed
                .jobs
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
        Ok(claimed)
    }

    /// Locks up to `max` due rows of `kinds` with claim.sql rendered as `head`, one
    /// priority at a time from the highest down, each read up to its first job not yet
    /// due; the priority of the point in `resumed` from after it, with that rendering.
    /// `top` is the highest priority with pending jobs when the caller read it already.
    pub(super) async fn pick(
        &self,
        tx: &mut Transaction<'static, MySql>,
        head: &str,
        resumed: Option<(&str, &Point)>,
        kinds: &[&str],
        max: usize,
        mut top: Option<Option<i32>>,
    ) -> Result<Vec<MySqlRow>> {
        let mut rows = Vec::new();
        let mut below = i64::from(i32::MAX) + 1;
        while rows.len() < max {
            let priority: Option<i32> = match top.take() {
                Some(known) => known,
                None => sqlx::query_scalar(&self.sql.next_priority)
                    .bind(below)
                    .fetch_optional(&mut **tx)
                    .await
                    .map_err(db_err)?,
            };
            let Some(priority) = priority else { break };
            let resumed = resumed.filter(|(_, p)| p.rank == -i64::from(priority));
            let mut q = match resumed {
                Some((statement, p)) => sqlx::query(statement)
                    .bind(priority)
                    .bind(p.due)
                    .bind(p.due)
                    .bind(p.id.as_str()),
                None => sqlx::query(head).bind(priority),
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

/// What one claim transaction took.
#[derive(Default)]
struct Claimed {
    /// The good jobs: the limited kinds' first.
    jobs: Vec<Job>,
    /// How many of `jobs` the limited kinds' part took.
    limited_jobs: usize,
    /// Rows set aside as undecodable.
    bad: usize,
    /// Rows the plain claim was asked for, and how many it locked.
    plain_asked: usize,
    plain_rows: usize,
}

/// The limited kinds (claim_first.sql's JSON array) that a claim of `kinds` (any when
/// empty) takes.
fn limited_kinds(json: Option<Vec<u8>>, kinds: &[&str]) -> Result<Vec<String>> {
    let Some(json) = json else {
        return Ok(Vec::new());
    };
    let mut limited: Vec<String> = serde_json::from_slice(&json).map_err(QueueError::backend)?;
    if !kinds.is_empty() {
        limited.retain(|k| kinds.contains(&k.as_str()));
    }
    Ok(limited)
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
