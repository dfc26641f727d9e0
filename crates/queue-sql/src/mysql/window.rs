//! The claim of a kind with per-key parts (see [`super::limited`]): read the first due
//! jobs of the kind in claim order without locking them, by the claim index a priority
//! at a time as the plain claim, the first priority with the running jobs per key
//! (limit_window_first.sql, limit_window.sql); choose in memory those whose keys have
//! room, and lock only those (limit_take.sql). A claim runs the same few statements
//! whatever the number of keys.
//! When keys at their limit crowd that window and leave room unfilled, the claim reads
//! on through the kind's due jobs in claim order, a page at a time, looking at
//! [`MAX_LOOK`] jobs at most: a busy key holds up no other key's jobs within that reach,
//! and jobs further back wait until the busy keys' backlog shrinks (as on Redis).

use std::collections::HashMap;

use queue_core::{Limit, QueueError, Result};
use sqlx::mysql::MySqlRow;
use sqlx::{MySql, Row, Transaction};
use time::OffsetDateTime;

use super::limits::{usage_with_running, Key, Usage};
use super::row::db_err;
use super::MySqlQueue;

/// The jobs a window reads per job the claim may take, and its bounds.
const WINDOW_PER_PICK: usize = 4;
const MIN_WINDOW: usize = 64;
const MAX_WINDOW: usize = 1024;
/// The jobs read per page past a crowded window.
const PAGE: usize = 4096;
/// The most jobs of a kind one claim looks at, its window included.
const MAX_LOOK: usize = 20_000;

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

/// Where a read of a kind's due jobs in claim order goes on.
#[derive(Debug, PartialEq)]
enum Next {
    /// In a priority, after the job of this due time and id.
    After(i32, OffsetDateTime, String),
    /// At the highest priority below this one.
    Below(i32),
    /// Nowhere: every due job of the kind was read.
    End,
}

/// The jobs a claim chose so far, and how many of each key.
#[derive(Default)]
struct Picks {
    ids: Vec<String>,
    of_key: HashMap<Key, u64>,
}

impl Picks {
    /// Adds the jobs of `entries` (next in claim order) that `limit` lets start, until
    /// there are `room`: a job without a key always, a keyed one while its key has room,
    /// counting the jobs chosen before it.
    fn choose(&mut self, entries: Vec<Entry>, limit: &Limit, usage: &Usage, room: usize) {
        for entry in entries {
            if self.ids.len() >= room {
                break;
            }
            let fits = match entry.key {
                None => true,
                Some(key) => {
                    let key_room = usage.key_room(limit, &key);
                    let n = self.of_key.entry(key).or_insert(0);
                    let fits = *n < key_room;
                    if fits {
                        *n += 1;
                    }
                    fits
                }
            };
            if fits {
                self.ids.push(entry.id);
            }
        }
    }
}

type Tx = Transaction<'static, MySql>;

/// The first due pending jobs of a limited kind, in claim order.
pub(super) struct Window {
    entries: Vec<Entry>,
    /// Where reading on would go.
    next: Next,
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
        let (running, next) = match top {
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
                let mut last = None;
                for row in rows {
                    let count: Option<i64> = row.try_get(1).map_err(db_err)?;
                    if count.is_some() {
                        running.push(row);
                    } else {
                        entries.push(entry(&row, 2)?);
                        last = Some(row);
                    }
                }
                let next = next_after(last.as_ref(), entries.len(), priority, size, 2)?;
                let next = self
                    .read_on(tx, kind, size - entries.len(), next, &mut entries)
                    .await?;
                (running, next)
            }
            // Nothing pending: an empty window.
            None => {
                let running = sqlx::query(&self.sql.limit_running)
                    .bind(kind)
                    .fetch_all(&mut **tx)
                    .await
                    .map_err(db_err)?;
                (running, Next::End)
            }
        };
        let usage = usage_with_running(tx, &self.sql, kind, limit, &running).await?;
        Ok((usage, Window { entries, next }))
    }

    /// Adds to `entries` up to `count` more due jobs of `kind` in claim order, from
    /// `next` on and down the priorities; returns where the read would go on.
    async fn read_on(
        &self,
        tx: &mut Tx,
        kind: &str,
        count: usize,
        mut next: Next,
        entries: &mut Vec<Entry>,
    ) -> Result<Next> {
        let goal = entries.len() + count;
        while entries.len() < goal {
            let (priority, q) = match &next {
                Next::End => break,
                Next::Below(above) => {
                    let priority: Option<i32> = sqlx::query_scalar(&self.sql.next_priority)
                        .bind(i64::from(*above))
                        .fetch_optional(&mut **tx)
                        .await
                        .map_err(db_err)?;
                    let Some(priority) = priority else {
                        return Ok(Next::End);
                    };
                    (priority, sqlx::query(&self.sql.limit_window).bind(priority))
                }
                Next::After(priority, due, id) => (
                    *priority,
                    sqlx::query(&self.sql.limit_window_after)
                        .bind(*priority)
                        .bind(*due)
                        .bind(*due)
                        .bind(id.clone()),
                ),
            };
            let want = goal - entries.len();
            let rows = q
                .bind(kind)
                .bind(i64::try_from(want).unwrap_or(i64::MAX))
                .fetch_all(&mut **tx)
                .await
                .map_err(db_err)?;
            for row in &rows {
                entries.push(entry(row, 1)?);
            }
            next = next_after(rows.last(), rows.len(), priority, want, 1)?;
        }
        Ok(next)
    }

    /// Up to `room` jobs of `kind` from `window`, locked; when keys at their limit crowd
    /// it, from the jobs after it too, read a page at a time, up to [`MAX_LOOK`] jobs.
    pub(super) async fn take_window(
        &self,
        tx: &mut Tx,
        kind: &str,
        window: Window,
        limit: &Limit,
        usage: &Usage,
        room: usize,
    ) -> Result<Vec<MySqlRow>> {
        let Window { entries, mut next } = window;
        let mut looked = entries.len();
        let mut picks = Picks::default();
        picks.choose(entries, limit, usage, room);
        while picks.ids.len() < room && looked < MAX_LOOK && next != Next::End {
            let mut page = Vec::new();
            let count = PAGE.min(MAX_LOOK - looked);
            next = self.read_on(tx, kind, count, next, &mut page).await?;
            looked += page.len();
            picks.choose(page, limit, usage, room);
        }
        if picks.ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids = serde_json::to_string(&picks.ids).map_err(QueueError::backend)?;
        sqlx::query(&self.sql.limit_take)
            .bind(ids)
            .fetch_all(&mut **tx)
            .await
            .map_err(db_err)
    }
}

/// The window entry in `row`: its key first, its id at `id`.
fn entry(row: &MySqlRow, id: usize) -> Result<Entry> {
    Ok(Entry {
        key: row.try_get(0).map_err(db_err)?,
        id: row.try_get(id).map_err(db_err)?,
    })
}

/// Where a read goes on after `read` jobs of `priority`, `last` the last of them, read
/// when asking for `asked` (a row with its id at `id` and its due time next): after the
/// last one when they were as many, else at the priorities below.
fn next_after(
    last: Option<&MySqlRow>,
    read: usize,
    priority: i32,
    asked: usize,
    id: usize,
) -> Result<Next> {
    match last {
        Some(last) if read == asked => Ok(Next::After(
            priority,
            last.try_get(id + 1).map_err(db_err)?,
            last.try_get(id).map_err(db_err)?,
        )),
        _ => Ok(Next::Below(priority)),
    }
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

    fn window() -> Vec<Entry> {
        vec![
            entry("1", Some("a")),
            entry("2", Some("a")),
            entry("3", None),
            entry("4", Some("b")),
            entry("5", Some("a")),
            entry("6", None),
        ]
    }

    fn chosen(limit: &Limit, room: usize) -> Vec<String> {
        let mut picks = Picks::default();
        picks.choose(window(), limit, &Usage::default(), room);
        picks.ids
    }

    #[test]
    fn a_key_takes_its_room_counting_what_was_chosen() {
        let limit = Limit::per_key(2);
        assert_eq!(chosen(&limit, 10), ["1", "2", "3", "4", "6"]);
        assert_eq!(chosen(&limit, 3), ["1", "2", "3"]);
        assert_eq!(chosen(&Limit::per_key(1), 10), ["1", "3", "4", "6"]);
    }

    #[test]
    fn a_page_read_on_counts_what_earlier_pages_chose() {
        let limit = Limit::per_key(1);
        let mut picks = Picks::default();
        picks.choose(window(), &limit, &Usage::default(), 10);
        let page = vec![
            entry("7", Some("a")),
            entry("8", Some("c")),
            entry("9", None),
        ];
        picks.choose(page, &limit, &Usage::default(), 5);
        assert_eq!(picks.ids, ["1", "3", "4", "6", "8"]);
    }

    #[test]
    fn the_window_grows_with_the_room_within_bounds() {
        assert_eq!(window_size(1), MIN_WINDOW);
        assert_eq!(window_size(100), 400);
        assert_eq!(window_size(usize::MAX), MAX_WINDOW);
    }
}
