//! Read-only inspection for admin tools. Reads wait for no writer in WAL mode; the busy
//! retry covers pools set up without it.

use async_trait::async_trait;
use queue_core::{list_limit, Browsable, Job, JobId, JobState, QueueError, Result, Stats};

use super::busy::retry_busy;
use super::row::{db_err, decode, decode_all};
use super::SqliteQueue;

#[async_trait]
impl Browsable for SqliteQueue {
    async fn list_jobs(&self, state: Option<JobState>, limit: usize) -> Result<Vec<Job>> {
        let limit = i64::try_from(list_limit(limit)).unwrap_or(i64::MAX);
        let rows = retry_busy!(
            match state {
                None => sqlx::query(&self.sql.list_all).bind(limit),
                Some(s) => sqlx::query(&self.sql.list_state)
                    .bind(s.as_str())
                    .bind(limit),
            }
            .fetch_all(&self.pool)
            .await
        )
        .map_err(db_err)?;
        Ok(decode_all(&rows))
    }

    async fn get_job(&self, id: JobId) -> Result<Option<Job>> {
        let row = retry_busy!(
            sqlx::query(&self.sql.get)
                .bind(id.to_string())
                .fetch_optional(&self.pool)
                .await
        )
        .map_err(db_err)?;
        match row {
            None => Ok(None),
            Some(row) => decode(&row).map(Some).map_err(|bad| QueueError::Corrupt {
                id: Some(id),
                reason: bad.reason,
            }),
        }
    }

    async fn stats(&self) -> Result<Stats> {
        let rows: Vec<(String, i64)> =
            retry_busy!(sqlx::query_as(&self.sql.stats).fetch_all(&self.pool).await)
                .map_err(db_err)?;
        let mut stats = Stats {
            paused: self.paused().await?,
            ..Stats::default()
        };
        for (state, n) in rows {
            match state.parse::<JobState>() {
                Ok(s) => *stats.get_mut(s) = u64::try_from(n).unwrap_or(0),
                Err(_) => tracing::warn!(state, rows = n, "job rows with an unknown state"),
            }
        }
        Ok(stats)
    }
}
