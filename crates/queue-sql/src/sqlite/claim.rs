//! Claiming: one `UPDATE … RETURNING` statement per priority with due jobs, highest first,
//! skipping paused kinds; undecodable rows are set aside and their slots claimed again.

use queue_core::{Job, Result};
use sqlx::sqlite::SqliteRow;
use sqlx::SqliteConnection;

use super::busy::retry_busy;
use super::row::{db_err, decode, duration_us, now_us, Undecodable};
use super::SqliteQueue;
use crate::text::stored_error;

impl SqliteQueue {
    /// Claims up to `max` due jobs of `kinds` (any kind when empty), best first.
    pub(super) async fn claim(&self, kinds: &[&str], max: usize) -> Result<Vec<Job>> {
        if max == 0 {
            return Ok(Vec::new());
        }
        // serde_json turns an empty slice into "[]", which the statement reads as "any kind".
        let kinds_json = serde_json::to_string(kinds).map_err(queue_core::QueueError::backend)?;
        crate::refill::claim_refilling(max, |want| self.claim_once(&kinds_json, want)).await
    }

    /// One claim for up to `max` jobs; returns the good jobs and how many rows could not
    /// be decoded (set aside, or left to their lease).
    async fn claim_once(&self, kinds_json: &str, max: usize) -> Result<(Vec<Job>, usize)> {
        let now = now_us();
        let deadline = now.saturating_add(duration_us(self.lease()));
        // The turn ends before a corrupt row is set aside, which takes its own.
        let rows = {
            let mut turn = self.write_turn().await?;
            self.claim_by_priority(&mut turn, kinds_json, max, now, deadline)
                .await?
        };

        let mut jobs = Vec::with_capacity(rows.len());
        let mut bad = 0;
        for row in &rows {
            match decode(row) {
                Ok(job) => jobs.push(job),
                // One bad row must not cost the batch its good jobs.
                Err(undecodable) => {
                    bad += 1;
                    self.set_aside(undecodable).await;
                }
            }
        }
        Ok((jobs, bad))
    }

    /// One statement per priority with due jobs, highest first. `now` and `deadline` in µs.
    async fn claim_by_priority(
        &self,
        conn: &mut SqliteConnection,
        kinds_json: &str,
        max: usize,
        now: i64,
        deadline: i64,
    ) -> Result<Vec<SqliteRow>> {
        let mut rows = Vec::new();
        // Priorities from the highest down, each read up to its first job not yet due.
        let mut below = i64::from(i32::MAX) + 1;
        while rows.len() < max {
            let r = retry_busy!(
                sqlx::query_scalar::<_, i64>(&self.sql.next_priority)
                    .bind(below)
                    .fetch_optional(&mut *conn)
                    .await
            );
            let Some(priority) = self.writer.checked(r.map_err(db_err))? else {
                break;
            };
            let r = retry_busy!(
                sqlx::query(&self.sql.claim)
                    .bind(now)
                    .bind(deadline)
                    .bind(kinds_json)
                    .bind(i64::try_from(max - rows.len()).unwrap_or(i64::MAX))
                    .bind(priority)
                    .fetch_all(&mut *conn)
                    .await
            );
            rows.extend(self.writer.checked(r.map_err(db_err))?);
            below = priority;
        }
        Ok(rows)
    }

    /// Marks a claimed row that cannot be decoded as failed with the reason, so it is not
    /// claimed again (a reclaimed lease would just bring it back) and admins can see it.
    async fn set_aside(&self, bad: Undecodable) {
        tracing::error!(
            id = ?bad.raw_id,
            rowid = ?bad.rowid,
            reason = %bad.reason,
            "claimed a job row that cannot be decoded; marking it failed"
        );
        let (Some(rowid), Some(token)) = (bad.rowid, bad.token) else {
            // Only when the driver itself cannot read the row; the lease then runs out
            // and the attempts limit fails it.
            return;
        };
        let reason = stored_error(&format!("corrupt row: {}", bad.reason)).into_owned();
        let r = match self.write_turn().await {
            Ok(mut turn) => {
                let r = retry_busy!(
                    sqlx::query(&self.sql.fail_corrupt)
                        .bind(rowid)
                        .bind(&reason)
                        .bind(now_us())
                        .bind(token)
                        .execute(&mut *turn)
                        .await
                );
                self.writer.checked(r.map_err(db_err))
            }
            Err(e) => Err(e),
        };
        if let Err(e) = r {
            tracing::error!(
                id = ?bad.raw_id,
                rowid,
                error = %queue_core::ErrorChain(&e),
                "could not mark the corrupt row failed; its lease will run out"
            );
        }
    }
}
