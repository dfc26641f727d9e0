//! Limits stored in the database (see sql/sqlite/migrate_6.sql): setting, clearing and
//! reading them, and what stats show of them. Claims enforce them ([`super::limited`]).

use std::collections::BTreeMap;

use queue_core::{validate_kind, Limit, LimitStats, Result};
use sqlx::{Connection, SqliteConnection};

use super::busy::retry_busy;
use super::limited::{self, Planner, Priorities};
use super::row::{db_err, now_us};
use super::SqliteQueue;
use crate::limit_columns;

impl SqliteQueue {
    /// Stores the limit of `kind` (replacing its parts, keeping its recent starts and key
    /// cursor) and wakes this process's idle workers: a raised limit makes work claimable.
    pub(super) async fn store_limit(&self, kind: &str, limit: Limit) -> Result<()> {
        let parts = limit_columns::checked(kind, &limit)?;
        let mut turn = self.write_turn().await?;
        let r = retry_busy!({
            let mut q = sqlx::query(&self.sql.limit.set).bind(kind);
            for part in parts {
                q = q.bind(part);
            }
            q.execute(&mut *turn).await
        });
        self.writer.checked(r.map_err(db_err))?;
        drop(turn);
        self.notifier.notify();
        Ok(())
    }

    /// Removes the limit of `kind` and its recent starts (fine when it has none), and
    /// wakes this process's idle workers.
    pub(super) async fn remove_limit(&self, kind: &str) -> Result<()> {
        validate_kind(kind)?;
        let mut turn = self.write_turn().await?;
        // Starts first: should the second statement fail, the limit still stands whole.
        for sql in [&self.sql.limit.clear_starts, &self.sql.limit.clear] {
            let r = retry_busy!(sqlx::query(sql).bind(kind).execute(&mut *turn).await);
            self.writer.checked(r.map_err(db_err))?;
        }
        drop(turn);
        self.notifier.notify();
        Ok(())
    }

    /// The stored limits, by kind.
    pub(super) async fn stored_limits(&self) -> Result<BTreeMap<String, Limit>> {
        let mut conn = retry_busy!(self.pool.acquire().await).map_err(db_err)?;
        let stored = limited::read_limits(&mut conn, &self.sql).await?;
        Ok(stored.into_iter().map(|s| (s.kind, s.limit)).collect())
    }

    /// Each limited kind with its running jobs and the due jobs its limit holds back, read
    /// in one snapshot.
    pub(super) async fn limit_stats(&self, paused: &[String]) -> Result<Vec<LimitStats>> {
        let mut conn = retry_busy!(self.pool.acquire().await).map_err(db_err)?;
        let mut tx = retry_busy!(conn.begin().await).map_err(db_err)?;
        let out = self.limit_stats_on(&mut tx, paused).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(out)
    }

    /// See [`SqliteQueue::limit_stats`].
    async fn limit_stats_on(
        &self,
        conn: &mut SqliteConnection,
        paused: &[String],
    ) -> Result<Vec<LimitStats>> {
        let sql = &self.sql;
        let stored = limited::read_limits(conn, sql).await?;
        if stored.is_empty() {
            return Ok(Vec::new());
        }
        let now = now_us();
        let names: Vec<&str> = stored.iter().map(|s| s.kind.as_str()).collect();
        let running = limited::running(conn, sql, &names, now).await?;
        let mut planner = Planner {
            sql,
            now,
            priorities: Priorities::default(),
            // Every key: stats answer for the whole kind, not one claim's share.
            key_probes: usize::MAX,
            lease_until: None,
            alone: false,
        };
        let mut out = Vec::with_capacity(stored.len());
        for s in stored {
            let n = running.get(&s.kind).copied().unwrap_or(0);
            let waiting = if paused.contains(&s.kind) {
                0
            } else {
                let due: i64 = sqlx::query_scalar(&sql.limit.due)
                    .bind(&s.kind)
                    .bind(now)
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(db_err)?;
                let due = usize::try_from(due).unwrap_or(0);
                let free = planner.plan(conn, &s, n, due).await?.picks.len();
                due.saturating_sub(free)
            };
            out.push(LimitStats {
                kind: s.kind,
                limit: s.limit,
                running: n as u64,
                waiting: waiting as u64,
            });
        }
        Ok(out)
    }
}
