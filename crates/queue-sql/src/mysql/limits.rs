//! Limits stored in the database (`Queue::set_limit`, see sql/mysql/migrate_2.sql): what
//! counts against a kind's limit, the room it leaves, and the admin calls. The claim that
//! enforces them is in [`super::limited`].

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use queue_core::{validate_kind, Limit, LimitStats, QueueError, Rate, Result};
use sqlx::mysql::MySqlRow;
use sqlx::{MySqlConnection, Row};

use super::row::{db_err, text};
use super::sql::Sql;
use super::{retry, MySqlQueue};

/// A concurrency key as stored (bytes; NULL for a job without one).
pub(super) type Key = Vec<u8>;

/// The limit in the six columns of `row` from `at` on (concurrency, key concurrency,
/// rate count and ms, key rate count and ms).
pub(super) fn limit_of(row: &MySqlRow, at: usize) -> Result<Limit> {
    let get_u32 = |i: usize| -> Result<Option<u32>> { row.try_get(at + i).map_err(db_err) };
    let get_ms = |i: usize| -> Result<Option<i64>> { row.try_get(at + i).map_err(db_err) };
    let rate = |count: Option<u32>, ms: Option<i64>| {
        count.zip(ms).map(|(count, ms)| Rate {
            count,
            period: Duration::from_millis(u64::try_from(ms).unwrap_or(0)),
        })
    };
    Ok(Limit {
        concurrency: get_u32(0)?,
        key_concurrency: get_u32(1)?,
        rate: rate(get_u32(2)?, get_ms(3)?),
        key_rate: rate(get_u32(4)?, get_ms(5)?),
    })
}

/// A rate's period in µs, for a statement's window.
fn window_us(rate: Rate) -> i64 {
    i64::try_from(rate.period.as_micros()).unwrap_or(i64::MAX)
}

/// The longest window of `limit`'s rates: starts older than it count for nothing.
pub(super) fn longest_window_us(limit: &Limit) -> Option<i64> {
    [limit.rate, limit.key_rate]
        .into_iter()
        .flatten()
        .map(window_us)
        .max()
}

/// What counts against a kind's limit now.
#[derive(Debug, Default)]
pub(super) struct Usage {
    /// Running jobs with unexpired leases.
    running: u64,
    /// The same, per key.
    key_running: HashMap<Key, u64>,
    /// Starts in the kind's rate window.
    starts: u64,
    /// Starts per key in the key rate window.
    key_starts: HashMap<Key, u64>,
}

/// `(key, count)` rows: the total, and the counts of the rows with a key.
fn counts_by_key(rows: &[MySqlRow]) -> Result<(u64, HashMap<Key, u64>)> {
    let mut total = 0;
    let mut by_key = HashMap::new();
    for row in rows {
        let key: Option<Key> = row.try_get(0).map_err(db_err)?;
        let n: i64 = row.try_get(1).map_err(db_err)?;
        let n = u64::try_from(n).unwrap_or(0);
        total += n;
        if let Some(key) = key.filter(|k| !k.is_empty()) {
            by_key.insert(key, n);
        }
    }
    Ok((total, by_key))
}

/// Reads what counts against `limit` of `kind`, on the claim's transaction (under the
/// kind's lock) or for stats.
pub(super) async fn usage(
    conn: &mut MySqlConnection,
    sql: &Sql,
    kind: &str,
    limit: &Limit,
) -> Result<Usage> {
    let rows = sqlx::query(&sql.limit_running)
        .bind(kind)
        .fetch_all(&mut *conn)
        .await
        .map_err(db_err)?;
    usage_with_running(conn, sql, kind, limit, &rows).await
}

/// As [`usage`], the running jobs per key read already: `(key, count)` rows.
pub(super) async fn usage_with_running(
    conn: &mut MySqlConnection,
    sql: &Sql,
    kind: &str,
    limit: &Limit,
    running_rows: &[MySqlRow],
) -> Result<Usage> {
    let (running, key_running) = counts_by_key(running_rows)?;
    let mut usage = Usage {
        running,
        key_running,
        ..Usage::default()
    };
    if let Some(rate) = limit.rate {
        let n: i64 = sqlx::query_scalar(&sql.limit_starts)
            .bind(kind)
            .bind(window_us(rate))
            .fetch_one(&mut *conn)
            .await
            .map_err(db_err)?;
        usage.starts = u64::try_from(n).unwrap_or(0);
    }
    if let Some(rate) = limit.key_rate {
        let rows = sqlx::query(&sql.limit_key_starts)
            .bind(kind)
            .bind(window_us(rate))
            .fetch_all(&mut *conn)
            .await
            .map_err(db_err)?;
        usage.key_starts = counts_by_key(&rows)?.1;
    }
    Ok(usage)
}

/// Room under an optional cap for `used` more.
fn left(cap: Option<u32>, used: u64) -> u64 {
    cap.map_or(u64::MAX, |n| u64::from(n).saturating_sub(used))
}

impl Usage {
    /// How many more of the kind may start now, by its kind-wide parts.
    pub fn kind_room(&self, limit: &Limit) -> u64 {
        left(limit.concurrency, self.running).min(left(limit.rate.map(|r| r.count), self.starts))
    }

    /// How many more jobs of `key` may start now, by the per-key parts.
    pub fn key_room(&self, limit: &Limit, key: &[u8]) -> u64 {
        let running = self.key_running.get(key).copied().unwrap_or(0);
        let starts = self.key_starts.get(key).copied().unwrap_or(0);
        left(limit.key_concurrency, running).min(left(limit.key_rate.map(|r| r.count), starts))
    }
}

impl MySqlQueue {
    /// Stores `limit` for `kind` and wakes idle workers: the new limit may have room.
    pub(super) async fn store_limit(&self, kind: &str, limit: Limit) -> Result<()> {
        let parts = crate::limit_columns::checked(kind, &limit)?;
        // A claim holding the kind's row makes this wait for it, or a deadlock victim.
        retry::on_conflict(|| async {
            let mut q = sqlx::query(&self.sql.limit_set).bind(kind);
            for part in parts {
                q = q.bind(part);
            }
            q.execute(&self.pool).await.map_err(db_err)
        })
        .await?;
        self.limits_changed().await;
        Ok(())
    }

    /// Removes `kind`'s limit and its recorded starts, and wakes idle workers.
    pub(super) async fn remove_limit(&self, kind: &str) -> Result<()> {
        validate_kind(kind)?;
        for statement in [&self.sql.limit_clear, &self.sql.limit_clear_starts] {
            retry::on_conflict(|| async {
                sqlx::query(statement)
                    .bind(kind)
                    .execute(&self.pool)
                    .await
                    .map_err(db_err)
            })
            .await?;
        }
        self.limits_changed().await;
        Ok(())
    }

    /// Every stored limit, by kind.
    pub(super) async fn stored_limits(&self) -> Result<BTreeMap<String, Limit>> {
        let rows = sqlx::query(&self.sql.limits)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        let mut out = BTreeMap::new();
        for row in &rows {
            let kind = text(row, 0).map_err(|reason| QueueError::Corrupt { id: None, reason })?;
            out.insert(kind, limit_of(row, 1)?);
        }
        Ok(out)
    }

    /// Each limited kind with its running jobs and the due jobs its limit holds back
    /// (none for a paused kind), sorted by kind.
    pub(super) async fn limit_stats(&self, paused: &[String]) -> Result<Vec<LimitStats>> {
        let limits = self.stored_limits().await?;
        if limits.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        let mut out = Vec::with_capacity(limits.len());
        for (kind, limit) in limits {
            let usage = usage(&mut conn, &self.sql, &kind, &limit).await?;
            let waiting = if paused.contains(&kind) {
                0
            } else {
                let rows = sqlx::query(&self.sql.limit_due)
                    .bind(&kind)
                    .fetch_all(&mut *conn)
                    .await
                    .map_err(db_err)?;
                held_back(&limit, &usage, &rows)?
            };
            out.push(LimitStats {
                kind,
                limit,
                running: usage.running,
                waiting,
            });
        }
        Ok(out)
    }

    /// After a limit changed: this process's workers look at once, other processes'
    /// within a second (see `watch`), as after a resume.
    async fn limits_changed(&self) {
        self.resume.forget_all();
        self.notifier.notify();
        self.wake_others().await;
    }
}

/// Of the due jobs counted per key in `rows` (limit_due.sql), how many a claim would not
/// take now because of `limit`: those past each key's room, then past the kind's.
fn held_back(limit: &Limit, usage: &Usage, rows: &[MySqlRow]) -> Result<u64> {
    let mut due = 0u64;
    let mut could = 0u64;
    for row in rows {
        let key: Option<Key> = row.try_get(0).map_err(db_err)?;
        let n = u64::try_from(row.try_get::<i64, _>(1).map_err(db_err)?).unwrap_or(0);
        due += n;
        could += match key {
            Some(key) if limit.by_key() => n.min(usage.key_room(limit, &key)),
            _ => n,
        };
    }
    Ok(due - could.min(usage.kind_room(limit)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_is_the_least_of_the_parts() {
        let limit = Limit::concurrency(3)
            .with_per_key(1)
            .with_rate(5, Duration::from_secs(1));
        let usage = Usage {
            running: 1,
            key_running: HashMap::from([(b"a".to_vec(), 1)]),
            starts: 4,
            key_starts: HashMap::new(),
        };
        assert_eq!(usage.kind_room(&limit), 1, "one start left in the window");
        assert_eq!(usage.key_room(&limit, b"a"), 0);
        assert_eq!(usage.key_room(&limit, b"b"), 1);
        assert_eq!(Usage::default().kind_room(&Limit::per_key(1)), u64::MAX);
    }
}
