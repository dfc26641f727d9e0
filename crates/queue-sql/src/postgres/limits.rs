//! Concurrency and rate limits per kind, stored in the database (see
//! sql/postgres/migrate_8.sql to migrate_11.sql): every claim of every process enforces
//! them.

use std::collections::{BTreeMap, HashMap};

use queue_core::{validate_kind, Limit, LimitStats, Result};

use super::row::db_err;
use super::PgQueue;
use crate::limit_columns;

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

fn limit_of(row: LimitRow) -> Result<(String, Limit)> {
    let (kind, c, kc, rc, rms, krc, krms) = row;
    let limit = limit_columns::limit(&kind, [c, kc, rc, rms, krc, krms])?;
    Ok((kind, limit))
}

impl PgQueue {
    /// Stores `limit` for `kind` and wakes every process's idle workers (NOTIFY on the
    /// table's channel, and this process's at once): a raised limit frees work.
    pub(super) async fn store_limit(&self, kind: &str, limit: Limit) -> Result<()> {
        let parts = limit_columns::checked(kind, &limit)?;
        let mut q = sqlx::query(&self.sql.set_limit).bind(kind);
        for part in parts {
            q = q.bind(part);
        }
        q.bind(&self.opts.table)
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
