//! Read-only inspection for admin tools. Reads wait for no writer in WAL mode; the busy
//! retry covers pools set up without it.

use async_trait::async_trait;
use queue_core::{
    list_limit, Browsable, Job, JobFilter, JobId, JobState, QueueError, Result, Stats,
};
use time::OffsetDateTime;

use super::busy::retry_busy;
use super::row::{db_err, decode, decode_all, from_us, now_us};
use super::SqliteQueue;

/// The cursor of a first page: '~' sorts after every character of a ULID.
const NO_CURSOR: &str = "~";

#[async_trait]
impl Browsable for SqliteQueue {
    /// Walks the primary key down from the cursor, filtering as it goes: a state or kind
    /// that is rare among many retained jobs makes it read far (there is no index by
    /// either, so that enqueue, claim and ack write fewer).
    async fn list(&self, filter: &JobFilter) -> Result<Vec<Job>> {
        filter.check()?;
        let limit = i64::try_from(list_limit(filter.limit)).unwrap_or(i64::MAX);
        let before = filter
            .before
            .map_or_else(|| NO_CURSOR.to_owned(), |id| id.to_string());
        let rows = retry_busy!(
            sqlx::query(&self.sql.list)
                .bind(filter.state.map(JobState::as_str))
                .bind(filter.kind.as_deref())
                .bind(&before)
                .bind(limit)
                .fetch_all(&self.pool)
                .await
        )
        .map_err(db_err)?;
        Ok(decode_all(&rows))
    }

    /// One probe of the pending index per priority present.
    async fn oldest_due(&self) -> Result<Option<OffsetDateTime>> {
        let us: Option<i64> = retry_busy!(
            sqlx::query_scalar(&self.sql.oldest_due)
                .bind(now_us())
                .fetch_one(&self.pool)
                .await
        )
        .map_err(db_err)?;
        us.map(from_us)
            .transpose()
            .map_err(|reason| QueueError::Corrupt { id: None, reason })
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
        let paused = self.paused().await?;
        let limits = self.limit_stats(&paused).await?;
        let mut stats = crate::counts::stats_of(rows, paused);
        stats.limits = limits;
        Ok(stats)
    }
}
