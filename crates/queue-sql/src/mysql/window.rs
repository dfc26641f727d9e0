//! The window pick of a kind with per-key parts, tried before the key rotation of
//! [`super::limited`]: read the first due jobs of the kind in claim order without locking
//! them, by the claim index a priority at a time as the plain claim, the first priority
//! with the running jobs per key (limit_window_first.sql, limit_window.sql); choose in
//! memory those whose keys have room, and lock only those (limit_take.sql). A claim runs
//! the same few statements whatever the number of keys.
//! When the window is full of jobs of keys at their limit, the rotation runs instead, so
//! a busy key at the head of the kind never holds up the others.

use std::collections::HashMap;

use queue_core::{Limit, QueueError, Result};
use sqlx::mysql::MySqlRow;
use sqlx::{MySql, Row, Transaction};

use super::limits::{usage_with_running, Key, Usage};
use super::row::db_err;
use super::MySqlQueue;

/// The jobs a window reads per job the claim may take, and its bounds.
const WINDOW_PER_PICK: usize = 4;
const MIN_WINDOW: usize = 64;
const MAX_WINDOW: usize = 1024;

/// How many jobs the window of a claim with room for `room` reads.
fn window_size(room: usize) -> usize {
    room.saturating_mul(WINDOW_PER_PICK)
        .clamp(MIN_WINDOW, MAX_WINDOW)
}

/// A due pending job of the window.
#[derive(Debug)]
struct Entry {
    id: String,
    key: Option<Key>,
}

/// The ids of the first jobs of `window` (in claim order) that `limit` lets start, at
/// most `room`: a job without a key always, a keyed one while its key has room, counting
/// the jobs chosen before it.
fn choose<'a>(window: &'a [Entry], limit: &Limit, usage: &Usage, room: usize) -> Vec<&'a str> {
    let mut chosen_of: HashMap<&[u8], u64> = HashMap::new();
    let mut chosen = Vec::new();
    for entry in window {
        if chosen.len() == room {
            break;
        }
        let fits = match &entry.key {
            None => true,
            Some(key) => {
                let n = chosen_of.entry(key.as_slice()).or_insert(0);
                let fits = *n < usage.key_room(limit, key);
                if fits {
                    *n += 1;
                }
                fits
            }
        };
        if fits {
            chosen.push(entry.id.as_str());
        }
    }
    chosen
}

type Tx = Transaction<'static, MySql>;

/// The first due pending jobs of a limited kind, in claim order.
pub(super) struct Window {
    entries: Vec<Entry>,
    /// How many it was to read: fewer means it holds every due job of the kind.
    size: usize,
}

impl MySqlQueue {
    /// What counts against `limit` of `kind` now, and its window for a claim of up to
    /// `want` jobs: the running counts and the window's first priority in one statement
    /// (limit_window_first.sql), then a statement per lower priority while the window is
    /// not full. `top` is the highest priority with pending jobs, as the claim read it.
    pub(super) async fn read_window(
        &self,
        tx: &mut Tx,
        kind: &str,
        limit: &Limit,
        want: usize,
        top: Option<i32>,
    ) -> Result<(Usage, Window)> {
        let size = window_size(want);
        let mut entries = Vec::new();
        let running = match top {
            Some(priority) => {
                let rows = sqlx::query(&self.sql.limit_window_first)
                    .bind(kind)
                    .bind(priority)
                    .bind(kind)
                    .bind(i64::try_from(size).unwrap_or(i64::MAX))
                    .fetch_all(&mut **tx)
                    .await
                    .map_err(db_err)?;
                let mut running = Vec::new();
                for row in rows {
                    let count: Option<i64> = row.try_get(1).map_err(db_err)?;
                    if count.is_some() {
                        running.push(row);
                    } else {
                        entries.push(entry(&row, 2)?);
                    }
                }
                if entries.len() < size {
                    self.read_below(tx, kind, size, priority, &mut entries)
                        .await?;
                }
                running
            }
            // Nothing pending: an empty window.
            None => sqlx::query(&self.sql.limit_running)
                .bind(kind)
                .fetch_all(&mut **tx)
                .await
                .map_err(db_err)?,
        };
        let usage = usage_with_running(tx, &self.sql, kind, limit, &running).await?;
        Ok((usage, Window { entries, size }))
    }

    /// Adds to `entries` the due jobs of `kind` of the priorities below `above`, from the
    /// highest down, until they are `size`.
    async fn read_below(
        &self,
        tx: &mut Tx,
        kind: &str,
        size: usize,
        above: i32,
        entries: &mut Vec<Entry>,
    ) -> Result<()> {
        let mut below = i64::from(above);
        while entries.len() < size {
            let priority: Option<i32> = sqlx::query_scalar(&self.sql.next_priority)
                .bind(below)
                .fetch_optional(&mut **tx)
                .await
                .map_err(db_err)?;
            let Some(priority) = priority else { break };
            let rows = sqlx::query(&self.sql.limit_window)
                .bind(priority)
                .bind(kind)
                .bind(i64::try_from(size - entries.len()).unwrap_or(i64::MAX))
                .fetch_all(&mut **tx)
                .await
                .map_err(db_err)?;
            for row in rows {
                entries.push(entry(&row, 1)?);
            }
            below = i64::from(priority);
        }
        Ok(())
    }

    /// Up to `room` jobs from `window`, locked; `None` when the window was full and yet
    /// had fewer than `room` jobs to take, for the key rotation to look further.
    pub(super) async fn take_window(
        &self,
        tx: &mut Tx,
        window: &Window,
        limit: &Limit,
        usage: &Usage,
        room: usize,
    ) -> Result<Option<Vec<MySqlRow>>> {
        let chosen = choose(&window.entries, limit, usage, room);
        if chosen.len() < room && window.entries.len() == window.size {
            return Ok(None);
        }
        if chosen.is_empty() {
            return Ok(Some(Vec::new()));
        }
        let ids = serde_json::to_string(&chosen).map_err(QueueError::backend)?;
        let rows = sqlx::query(&self.sql.limit_take)
            .bind(ids)
            .fetch_all(&mut **tx)
            .await
            .map_err(db_err)?;
        Ok(Some(rows))
    }
}

/// The window entry in `row`: its key first, its id at `id`.
fn entry(row: &MySqlRow, id: usize) -> Result<Entry> {
    Ok(Entry {
        key: row.try_get(0).map_err(db_err)?,
        id: row.try_get(id).map_err(db_err)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, key: Option<&str>) -> Entry {
        Entry {
            id: id.to_string(),
            key: key.map(|k| k.as_bytes().to_vec()),
        }
    }

    #[test]
    fn a_key_takes_its_room_counting_what_was_chosen() {
        let window = [
            entry("1", Some("a")),
            entry("2", Some("a")),
            entry("3", None),
            entry("4", Some("b")),
            entry("5", Some("a")),
            entry("6", None),
        ];
        let limit = Limit::per_key(2);
        let usage = Usage::default();
        assert_eq!(
            choose(&window, &limit, &usage, 10),
            ["1", "2", "3", "4", "6"]
        );
        assert_eq!(choose(&window, &limit, &usage, 3), ["1", "2", "3"]);
        assert_eq!(
            choose(&window, &Limit::per_key(1), &usage, 10),
            ["1", "3", "4", "6"]
        );
    }

    #[test]
    fn the_window_grows_with_the_room_within_bounds() {
        assert_eq!(window_size(1), MIN_WINDOW);
        assert_eq!(window_size(100), 400);
        assert_eq!(window_size(usize::MAX), MAX_WINDOW);
    }
}
