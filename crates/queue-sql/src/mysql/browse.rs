//! Read-only inspection for admin tools.

use async_trait::async_trait;
use queue_core::{
    list_limit, Browsable, Job, JobFilter, JobId, JobState, QueueError, Result, Stats,
};
use time::OffsetDateTime;

use super::row::{db_err, decode, decode_all, text};
use super::MySqlQueue;

/// The cursor of a first page: '~' sorts after every character of a ULID.
const NO_CURSOR: &str = "~";

#[async_trait]
impl Browsable for MySqlQueue {
    /// Walks the primary key down from the cursor, filtering as it goes.
    async fn list(&self, filter: &JobFilter) -> Result<Vec<Job>> {
        filter.check()?;
        let limit = i64::try_from(list_limit(filter.limit)).unwrap_or(i64::MAX);
        let before = filter
            .before
            .map_or_else(|| NO_CURSOR.to_owned(), |id| id.to_string());
        let state = filter.state.map(JobState::as_str);
        let kind = filter.kind.as_deref();
        let rows = sqlx::query(&self.sql.list)
            .bind(&before)
            .bind(state)
            .bind(state)
            .bind(kind)
            .bind(kind)
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(decode_all(&rows))
    }

    /// One probe of the pending index per priority present.
    async fn oldest_due(&self) -> Result<Option<OffsetDateTime>> {
        let mut oldest: Option<OffsetDateTime> = None;
        let mut below = i64::from(i32::MAX) + 1;
        loop {
            let priority: Option<i32> = sqlx::query_scalar(&self.sql.next_priority)
                .bind(below)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
            let Some(priority) = priority else {
                return Ok(oldest);
            };
            let head: Option<OffsetDateTime> = sqlx::query_scalar(&self.sql.head_due)
                .bind(priority)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
            oldest = match (oldest, head) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            below = i64::from(priority);
        }
    }

    async fn get_job(&self, id: JobId) -> Result<Option<Job>> {
        let row = sqlx::query(&self.sql.get)
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        match row {
            None => Ok(None),
            Some(row) => decode(&row, true)
                .map(Some)
                .map_err(|bad| QueueError::Corrupt {
                    id: Some(id),
                    reason: bad.reason,
                }),
        }
    }

    /// Counts every row, through the pending index: O(rows), like SQLite's.
    async fn stats(&self) -> Result<Stats> {
        let rows = sqlx::query(&self.sql.stats)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        let mut counts = Vec::with_capacity(rows.len());
        for row in &rows {
            let state = text(row, 0).map_err(|reason| QueueError::Corrupt { id: None, reason })?;
            let n: i64 = sqlx::Row::try_get(row, 1).map_err(db_err)?;
            counts.push((state, n));
        }
        let mut stats = crate::counts::stats_of(counts, self.paused().await?);
        stats.limits = self.limit_stats(&stats.paused).await?;
        Ok(stats)
    }
}
