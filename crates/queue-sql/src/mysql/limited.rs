//! The claim's part for limited kinds, in the claim's transaction before the plain claim
//! (which passes over these kinds). For each limited kind asked for, in a random order:
//! lock its limit row (a kind another claim holds is skipped, never waited on), count
//! what runs and what started, and pick what the room allows. A kind without per-key
//! parts takes its due jobs in claim order; a kind with them takes them in claim order
//! too, stepping over the jobs of keys at their limit ([`super::window`]).

use queue_core::Result;
use sqlx::mysql::MySqlRow;
use sqlx::{MySql, Row, Transaction};

use super::limits::{limit_of, longest_window_us, usage, Key};
use super::row::db_err;
use super::MySqlQueue;

/// Where the concurrency key is in a picked row (see sql/mysql/columns.sql).
const KEY_COLUMN: usize = 13;

type Tx = Transaction<'static, MySql>;

impl MySqlQueue {
    /// Picks and locks up to `max` due jobs of the `limited` kinds that their limits let
    /// start now, and records their starts. `top` is the highest priority with pending
    /// jobs (claim_first.sql).
    pub(super) async fn pick_limited(
        &self,
        tx: &mut Tx,
        limited: &[String],
        max: usize,
        top: Option<i32>,
    ) -> Result<Vec<MySqlRow>> {
        let mut order: Vec<&String> = limited.iter().collect();
        fastrand::shuffle(&mut order);
        let mut rows = Vec::new();
        for kind in order {
            if rows.len() >= max {
                break;
            }
            let want = max - rows.len();
            rows.extend(self.pick_kind(tx, kind, want, top).await?);
        }
        Ok(rows)
    }

    /// Up to `want` jobs of limited `kind`, under its lock.
    async fn pick_kind(
        &self,
        tx: &mut Tx,
        kind: &str,
        want: usize,
        top: Option<i32>,
    ) -> Result<Vec<MySqlRow>> {
        let locked = sqlx::query(&self.sql.limit_lock)
            .bind(kind)
            .fetch_optional(&mut **tx)
            .await
            .map_err(db_err)?;
        let Some(locked) = locked else {
            return Ok(Vec::new());
        };
        let limit = limit_of(&locked, 0)?;
        let (usage, window) = if limit.by_key() {
            let (usage, window) = self.read_window(tx, kind, &limit, want, top).await?;
            (usage, Some(window))
        } else {
            (usage(tx, &self.sql, kind, &limit).await?, None)
        };
        let room = usize::try_from(usage.kind_room(&limit))
            .unwrap_or(usize::MAX)
            .min(want);
        if room == 0 {
            return Ok(Vec::new());
        }
        let rows = match window {
            Some(window) => {
                self.take_window(tx, kind, window, &limit, &usage, room)
                    .await?
            }
            None => {
                self.pick(tx, &self.sql.claim_kind, None, &[kind], room, Some(top))
                    .await?
            }
        };
        if let Some(window) = longest_window_us(&limit).filter(|_| !rows.is_empty()) {
            record_starts(self, tx, kind, window, &rows).await?;
        }
        Ok(rows)
    }
}

/// Records a start for each picked row of `kind`, and forgets those older than the
/// kind's longest rate window (`window` µs).
async fn record_starts(
    q: &MySqlQueue,
    tx: &mut Tx,
    kind: &str,
    window: i64,
    rows: &[MySqlRow],
) -> Result<()> {
    sqlx::query(&q.sql.limit_forget_starts)
        .bind(kind)
        .bind(window)
        .execute(&mut **tx)
        .await
        .map_err(db_err)?;
    // Keys as text for the JSON array; a key that is not UTF-8 (never written by the
    // queue) counts as unkeyed.
    let keys: Vec<String> = rows
        .iter()
        .map(|row| {
            let key: Option<Key> = row.try_get(KEY_COLUMN).ok().flatten();
            key.and_then(|k| String::from_utf8(k).ok())
                .unwrap_or_default()
        })
        .collect();
    let keys = serde_json::to_string(&keys).map_err(queue_core::QueueError::backend)?;
    sqlx::query(&q.sql.limit_record_starts)
        .bind(kind)
        .bind(keys)
        .execute(&mut **tx)
        .await
        .map_err(db_err)?;
    Ok(())
}
