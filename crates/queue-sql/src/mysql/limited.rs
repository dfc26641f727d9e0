//! The claim's part for limited kinds, in the claim's transaction before the plain claim
//! (which passes over these kinds). For each limited kind asked for, in a random order:
//! lock its limit row (a kind another claim holds is skipped, never waited on), count
//! what runs and what started, and pick what the room allows. A kind without per-key
//! parts takes its due jobs in claim order. A kind with them takes them from a window in
//! claim order first ([`super::window`]); when that window is crowded by keys at their
//! limit, it serves its groups (each key, and the jobs without a key as one more group,
//! sorted first) in rotation from the group after the one its last rotation served,
//! wrapping once, so a key at its limit holds up no other and every key gets its turn.

use queue_core::{Limit, Result};
use sqlx::mysql::MySqlRow;
use sqlx::{MySql, Row, Transaction};

use super::limits::{limit_of, longest_window_us, usage, Key, Usage};
use super::row::db_err;
use super::MySqlQueue;

/// Keys read per page of limit_keys.sql.
const KEY_PAGE: i64 = 64;
/// Where the concurrency key is in a picked row (see sql/mysql/columns.sql).
const KEY_COLUMN: usize = 13;
/// Above every stored key: no UTF-8 text contains the byte 0xFF.
const ABOVE_KEYS: &[u8] = &[0xFF];

/// One stretch of a limited kind's rotation.
enum Stretch {
    /// The jobs without a key.
    Unkeyed,
    /// The keys after the first and up to the second.
    Keys(Key, Key),
}

/// The stretches a claim serves, in order, after the group served last (`rotation`).
fn stretches(rotation: Option<Key>) -> Vec<Stretch> {
    match rotation {
        None => vec![
            Stretch::Unkeyed,
            Stretch::Keys(Vec::new(), ABOVE_KEYS.to_vec()),
        ],
        Some(last) if last.is_empty() => {
            vec![
                Stretch::Keys(Vec::new(), ABOVE_KEYS.to_vec()),
                Stretch::Unkeyed,
            ]
        }
        Some(last) => vec![
            Stretch::Keys(last.clone(), ABOVE_KEYS.to_vec()),
            Stretch::Unkeyed,
            Stretch::Keys(Vec::new(), last),
        ],
    }
}

type Tx = Transaction<'static, MySql>;

impl MySqlQueue {
    /// Picks and locks up to `max` due jobs of the `limited` kinds that their limits let
    /// start now, and records their starts and rotation. `top` is the highest priority
    /// with pending jobs (claim_first.sql).
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
        let rotation: Option<Key> = locked.try_get(6).map_err(db_err)?;
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
        let rows = if let Some(window) = window {
            match self.take_window(tx, &window, &limit, &usage, room).await? {
                Some(rows) => rows,
                None => {
                    self.pick_by_rotation(tx, kind, &limit, &usage, rotation, room)
                        .await?
                }
            }
        } else {
            self.pick(tx, &self.sql.claim_kind, None, &[kind], room, Some(top))
                .await?
        };
        if let Some(window) = longest_window_us(&limit).filter(|_| !rows.is_empty()) {
            record_starts(self, tx, kind, window, &rows).await?;
        }
        Ok(rows)
    }

    /// Up to `room` jobs of a kind with per-key parts by its key rotation, storing the
    /// last group served for the next rotation.
    async fn pick_by_rotation(
        &self,
        tx: &mut Tx,
        kind: &str,
        limit: &Limit,
        usage: &Usage,
        rotation: Option<Key>,
        room: usize,
    ) -> Result<Vec<MySqlRow>> {
        let (rows, served) = self
            .pick_rotating(tx, kind, limit, usage, rotation, room)
            .await?;
        if let Some(served) = served {
            sqlx::query(&self.sql.limit_rotation)
                .bind(served)
                .bind(kind)
                .execute(&mut **tx)
                .await
                .map_err(db_err)?;
        }
        Ok(rows)
    }

    /// Up to `room` jobs of a kind with per-key parts, serving its groups in rotation;
    /// also returns the last group served.
    async fn pick_rotating(
        &self,
        tx: &mut Tx,
        kind: &str,
        limit: &Limit,
        usage: &Usage,
        rotation: Option<Key>,
        mut room: usize,
    ) -> Result<(Vec<MySqlRow>, Option<Key>)> {
        let mut rows = Vec::new();
        let mut served = None;
        for stretch in stretches(rotation) {
            if room == 0 {
                break;
            }
            match stretch {
                Stretch::Unkeyed => {
                    let got = self
                        .pick(tx, &self.sql.claim_unkeyed, None, &[kind], room, None)
                        .await?;
                    if !got.is_empty() {
                        served = Some(Vec::new());
                        room -= got.len();
                        rows.extend(got);
                    }
                }
                Stretch::Keys(mut after, upto) => loop {
                    let keys: Vec<Key> = sqlx::query_scalar(&self.sql.limit_keys)
                        .bind(kind)
                        .bind(&after)
                        .bind(&upto)
                        .bind(KEY_PAGE)
                        .fetch_all(&mut **tx)
                        .await
                        .map_err(db_err)?;
                    let full_page = keys.len() as i64 == KEY_PAGE;
                    for key in keys {
                        if room == 0 {
                            break;
                        }
                        let key_room = usage.key_room(limit, &key);
                        let take = usize::try_from(key_room).unwrap_or(usize::MAX).min(room);
                        if take > 0 {
                            let got = self.pick_key(tx, kind, &key, take).await?;
                            if !got.is_empty() {
                                room -= got.len();
                                rows.extend(got);
                                served = Some(key.clone());
                            }
                        }
                        after = key;
                    }
                    if !full_page || room == 0 {
                        break;
                    }
                },
            }
        }
        Ok((rows, served))
    }

    /// Up to `take` due jobs of `kind` with concurrency key `key`, best first, locked.
    async fn pick_key(
        &self,
        tx: &mut Tx,
        kind: &str,
        key: &[u8],
        take: usize,
    ) -> Result<Vec<MySqlRow>> {
        sqlx::query(&self.sql.limit_pick_key)
            .bind(kind)
            .bind(key)
            .bind(i64::try_from(take).unwrap_or(i64::MAX))
            .fetch_all(&mut **tx)
            .await
            .map_err(db_err)
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
