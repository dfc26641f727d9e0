//! Read-only inspection for admin tools.

use async_trait::async_trait;
use queue_core::{list_limit, Browsable, Job, JobFilter, JobId, QueueError, Result, Stats};
use time::OffsetDateTime;

use super::row::{db_err, decode, decode_all};
use super::PgQueue;

#[async_trait]
impl Browsable for PgQueue {
    /// Reads the index that holds the state (or the primary key) backwards from the
    /// cursor. Kind is a filter, not an index (one would cost every enqueue): a kind that
    /// is rare among the jobs listed makes the walk long.
    async fn list(&self, filter: &JobFilter) -> Result<Vec<Job>> {
        filter.check()?;
        let limit = i64::try_from(list_limit(filter.limit)).unwrap_or(i64::MAX);
        let sql = match filter.state {
            None => &self.sql.list_all,
            Some(s) => self.sql.list_state(s),
        };
        let rows = sqlx::query(sql)
            .bind(filter.before.map(|id| id.to_string()))
            .bind(filter.kind.as_deref())
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(decode_all(&rows))
    }

    /// A loose index scan: one probe of the claim index per priority in use.
    async fn oldest_due(&self) -> Result<Option<OffsetDateTime>> {
        sqlx::query_scalar(&self.sql.oldest_due)
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)
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
        let mut stats = crate::counts::stats_of(rows, self.paused().await?);
        stats.limits = self.limit_stats().await?;
        Ok(stats)
    }
}
