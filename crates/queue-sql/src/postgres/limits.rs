//! Concurrency and rate limits per kind, stored in the database (see
//! sql/postgres/migrate_8.sql): every claim of every process enforces them.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use queue_core::{validate_kind, Limit, LimitStats, QueueError, Rate, Result};

use super::row::db_err;
use super::PgQueue;

/// A limits row: kind, concurrency, key concurrency, rate count and ms, key rate count
/// and ms.
type LimitRow = (
    String,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

/// A count as stored, or NULL.
fn count_of(n: Option<u32>) -> Option<i64> {
    n.map(i64::from)
}

/// A period as stored: whole milliseconds (at most a year, well within bigint).
fn ms_of(rate: Option<Rate>) -> Option<i64> {
    rate.map(|r| i64::try_from(r.period_ms()).unwrap_or(i64::MAX))
}

/// A stored count back; a value no version writes is a corrupt row.
fn count_from(kind: &str, n: Option<i64>) -> Result<Option<u32>> {
    n.map(|n| {
        u32::try_from(n)
            .map_err(|_| QueueError::Backend(format!("limit of {kind}: count {n}").into()))
    })
    .transpose()
}

fn rate_from(kind: &str, count: Option<i64>, ms: Option<i64>) -> Result<Option<Rate>> {
    match (count_from(kind, count)?, ms) {
        (Some(count), Some(ms)) => {
            let ms = u64::try_from(ms).map_err(|_| {
                QueueError::Backend(format!("limit of {kind}: period {ms} ms").into())
            })?;
            Ok(Some(Rate {
                count,
                period: Duration::from_millis(ms),
            }))
        }
        _ => Ok(None),
    }
}

fn limit_of(row: LimitRow) -> Result<(String, Limit)> {
    let (kind, concurrency, key_concurrency, rate_count, rate_ms, key_rate_count, key_rate_ms) =
        row;
    let limit = Limit {
        concurrency: count_from(&kind, concurrency)?,
        key_concurrency: count_from(&kind, key_concurrency)?,
        rate: rate_from(&kind, rate_count, rate_ms)?,
        key_rate: rate_from(&kind, key_rate_count, key_rate_ms)?,
    };
    Ok((kind, limit))
}

impl PgQueue {
    /// Stores `limit` for `kind` and wakes every process's idle workers (NOTIFY on the
    /// table's channel, and this process's at once): a raised limit frees work.
    pub(super) async fn store_limit(&self, kind: &str, limit: Limit) -> Result<()> {
        validate_kind(kind)?;
        limit.check()?;
        sqlx::query(&self.sql.set_limit)
            .bind(kind)
            .bind(count_of(limit.concurrency))
            .bind(count_of(limit.key_concurrency))
            .bind(count_of(limit.rate.map(|r| r.count)))
            .bind(ms_of(limit.rate))
            .bind(count_of(limit.key_rate.map(|r| r.count)))
            .bind(ms_of(limit.key_rate))
            .bind(&self.opts.table)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        self.notifier.notify();
        Ok(())
    }

    /// Removes the limit of `kind` (fine when it has none) and wakes idle workers.
    pub(super) async fn remove_limit(&self, kind: &str) -> Result<()> {
        validate_kind(kind)?;
        sqlx::query(&self.sql.clear_limit)
            .bind(kind)
            .bind(&self.opts.table)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        // The kind's jobs may lie before where this process's plain claims would resume.
        self.resume.forget_all();
        self.notifier.notify();
        Ok(())
    }

    /// The stored limits, by kind.
    pub(super) async fn stored_limits(&self) -> Result<BTreeMap<String, Limit>> {
        let rows: Vec<LimitRow> = sqlx::query_as(&self.sql.limits)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.into_iter().map(limit_of).collect()
    }

    /// Every limited kind with its running and held-back jobs, sorted by kind.
    pub(super) async fn limit_stats(&self) -> Result<Vec<LimitStats>> {
        let limits = self.stored_limits().await?;
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(&self.sql.limit_stats)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        let counts: HashMap<String, (i64, i64)> = rows
            .into_iter()
            .map(|(kind, running, waiting)| (kind, (running, waiting)))
            .collect();
        // A limit stored between the two reads shows with no jobs counted yet. The map
        // keeps the kinds sorted.
        Ok(limits
            .into_iter()
            .map(|(kind, limit)| {
                let (running, waiting) = counts.get(&kind).copied().unwrap_or((0, 0));
                LimitStats {
                    kind,
                    limit,
                    running: u64::try_from(running).unwrap_or(0),
                    waiting: u64::try_from(waiting).unwrap_or(0),
                }
            })
            .collect())
    }
}
