//! Picking the jobs of limited kinds (`Queue::set_limit`) that their limits let start.
//!
//! The plain claim (claim.sql) steps over limited kinds; a claim that finds any limit
//! stored runs this first, in the same `BEGIN IMMEDIATE` transaction as taking the picks,
//! so counting and taking are one atomic step for every process sharing the file. Per
//! kind: the room left is the concurrency limit less its running jobs with unexpired
//! leases, and the rate's count less the starts inside its window. Without per-key parts
//! the kind's due jobs are taken in claim order up to that room. With them, a claim first
//! takes from a window of the kind's first due jobs in claim order, in one statement per
//! priority (limit_take.sql) that also reads the room of the window's keys: jobs without
//! a key by the kind's room alone. Stats read the same picks without taking them
//! (limit_window.sql). When the window was full yet could not fill the room, its keys
//! being at their limits, the claim walks the kind's distinct keys on the keyed index for
//! the rest, from a cursor saved with the limit (the last key served), so claims rotate
//! among keys and a key at its limit never holds up the others.

use std::cmp::Reverse;
use std::collections::HashMap;

use queue_core::{Limit, QueueError, Rate, Result};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};

use super::busy::retry_busy;
use super::row::db_err;
use super::sql::Sql;
use crate::limit_columns;

/// Keys probed per kind by one claim at most. The walk resumes from where it stopped at
/// the next claim, so every key still gets its turn; this only bounds how long one claim
/// holds the write lock when very many keys are at their limit.
pub(super) const KEY_PROBES: usize = 256;

/// Due jobs a claim reads from the head of a per-key-limited kind, per job it may take,
/// and the bounds of that window: room to step over a few jobs of busy keys, while a
/// head crowded by them goes to the walk over the keys rather than a longer read. A
/// claim's take stops at its last pick, so the length costs only where busy keys crowd
/// the head; stats read it whole.
const WINDOW_PER_PICK: usize = 2;
/// The smallest window.
const WINDOW_MIN: usize = 64;
/// The largest window.
const WINDOW_MAX: usize = 1_024;

/// A kind's limit as stored, with where its walk over the keys resumes.
#[derive(Debug)]
pub(super) struct Stored {
    /// The limited kind.
    pub kind: String,
    /// Its limit.
    pub limit: Limit,
    /// The last concurrency key served, if any.
    pub cursor: Option<String>,
}

impl Stored {
    /// Whether starts of this kind are remembered (it has a rate of either kind).
    pub fn is_rated(&self) -> bool {
        self.limit.rate.is_some() || self.limit.key_rate.is_some()
    }

    /// The longest window of its rates, in µs (0 without a rate).
    pub fn longest_window_us(&self) -> i64 {
        [self.limit.rate, self.limit.key_rate]
            .into_iter()
            .flatten()
            .map(window_us)
            .max()
            .unwrap_or(0)
    }
}

/// One stored row of limit_all.sql.
type LimitRow = (
    String,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<String>,
);

/// A rate's window in µs.
fn window_us(rate: Rate) -> i64 {
    i64::try_from(rate.period_ms())
        .unwrap_or(i64::MAX)
        .saturating_mul(1_000)
}

/// A stored row of limit_all.sql as a limit.
fn stored((kind, c, kc, rc, rms, krc, krms, cursor): LimitRow) -> Result<Stored> {
    Ok(Stored {
        limit: limit_columns::limit(&kind, [c, kc, rc, rms, krc, krms])?,
        kind,
        cursor,
    })
}

/// Every stored limit, by kind.
pub(super) async fn read_limits(conn: &mut SqliteConnection, sql: &Sql) -> Result<Vec<Stored>> {
    let rows: Vec<LimitRow> = sqlx::query_as(&sql.limit.all)
        .fetch_all(&mut *conn)
        .await
        .map_err(db_err)?;
    rows.into_iter().map(stored).collect()
}

/// The limits a claim of `kinds_json` (a JSON array, any kind when empty) honours at `now`
/// (µs): those of the kinds asked for that are not paused, by kind, each with its running
/// jobs (counted only when it has a kind-wide concurrency limit, else 0).
pub(super) async fn claimed_limits(
    conn: &mut SqliteConnection,
    sql: &Sql,
    kinds_json: &str,
    now: i64,
) -> Result<Vec<(Stored, usize)>> {
    let rows: Vec<ClaimedRow> = sqlx::query_as(&sql.limit.claimed)
        .bind(kinds_json)
        .bind(now)
        .fetch_all(&mut *conn)
        .await
        .map_err(db_err)?;
    rows.into_iter()
        .map(|(kind, c, kc, rc, rms, krc, krms, cursor, running)| {
            Ok((
                stored((kind, c, kc, rc, rms, krc, krms, cursor))?,
                as_count(running),
            ))
        })
        .collect()
}

/// One row of limit_claimed.sql: a [`LimitRow`] and its kind's running jobs.
type ClaimedRow = (
    String,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<String>,
    i64,
);

/// A due job a limit lets start, with what orders it.
#[derive(Debug)]
pub(super) struct Pick {
    /// How the claim finds the row again.
    pub rowid: i64,
    /// Its concurrency key.
    pub key: Option<String>,
    /// Claim order: priority (higher first), due time, id.
    order: (Reverse<i64>, i64, Option<String>),
}

/// One row of limit_kind_jobs.sql or limit_key_jobs.sql.
type PickRow = (i64, i64, i64, Option<String>, Option<String>);

impl From<PickRow> for Pick {
    fn from((rowid, priority, scheduled_at, id, key): PickRow) -> Pick {
        Pick {
            rowid,
            key,
            order: (Reverse(priority), scheduled_at, id),
        }
    }
}

/// One row of limit_window.sql: a pick (rowid, key, due time, id), or how many jobs the
/// window held and its priority.
type WindowRow = (
    Option<i64>,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<i64>,
    Option<i64>,
);

/// What a kind's limit lets one claim take.
#[derive(Default)]
pub(super) struct KindPlan {
    /// The picks, in claim order.
    pub picks: Vec<Pick>,
    /// The rows the window took already (a claim only): running, their starts recorded.
    pub taken: Vec<SqliteRow>,
    /// The key cursor to save, when it moved.
    pub cursor: Option<String>,
    /// Whether the window was crowded, so that the walk over the keys had to help.
    pub crowded: bool,
}

/// Reads what limits allow at `now` (µs). Runs on whatever connection it is given: the
/// claim's write transaction, or a read transaction for stats.
pub(super) struct Planner<'a> {
    /// The statements.
    pub sql: &'a Sql,
    /// "Now" of the claim, µs.
    pub now: i64,
    /// The priorities with pending jobs, read as far as needed.
    pub priorities: Priorities,
    /// Keys probed per kind at most.
    pub key_probes: usize,
    /// The lease deadline (µs) of a claim, which takes a window's picks in the statement
    /// that picks them; `None` for stats, which only read.
    pub lease_until: Option<i64>,
    /// Whether the window's takes run outside a transaction, each then checking that the
    /// stored limit is still the one given (see limit_take.sql).
    pub alone: bool,
}

/// A count read back as a `usize`.
fn as_count(n: i64) -> usize {
    usize::try_from(n).unwrap_or(0)
}

impl Planner<'_> {
    /// Up to `cap` due jobs of `s`'s kind that its limit lets start now, given `running`
    /// jobs of the kind.
    pub async fn plan(
        &mut self,
        conn: &mut SqliteConnection,
        s: &Stored,
        running: usize,
        cap: usize,
    ) -> Result<KindPlan> {
        let mut room = self.kind_room(conn, s, running).await?.min(cap);
        if room == 0 {
            return Ok(KindPlan::default());
        }
        if !s.limit.by_key() {
            let picks = self.kind_jobs(conn, &s.kind, true, room).await?;
            return Ok(KindPlan {
                picks,
                taken: Vec::new(),
                cursor: None,
                crowded: false,
            });
        }
        let mut taken = Vec::new();
        if let Some(until) = self.lease_until {
            let crowded;
            (taken, crowded) = self.window_take(conn, s, room, until).await?;
            if !crowded {
                return Ok(KindPlan {
                    picks: Vec::new(),
                    taken,
                    cursor: None,
                    crowded,
                });
            }
            // The walk fills what the window left of the room.
            room -= taken.len();
        } else if let Some(picks) = self.window(conn, s, room).await? {
            return Ok(KindPlan {
                picks,
                taken,
                cursor: None,
                crowded: false,
            });
        }
        let mut picks = self.kind_jobs(conn, &s.kind, false, room).await?;
        let walk = self.key_walk(conn, s, room).await?;
        let keyed = walk.picks.len();
        picks.extend(walk.picks);
        // Both lists are in claim order and within the room; merged, the best go first.
        picks.sort_by(|a, b| a.order.cmp(&b.order));
        picks.truncate(room);
        let taken_keyed: Vec<&str> = picks.iter().filter_map(|p| p.key.as_deref()).collect();
        // The cursor goes to the last key (in walk order) that was served; when nothing
        // was dropped and the walk ran out of probes, past every key it looked at.
        let cursor = match walk.stopped_at {
            Some(k) if taken_keyed.len() == keyed => Some(k),
            _ => walk
                .order
                .iter()
                .rev()
                .find(|k| taken_keyed.contains(&k.as_str()))
                .cloned(),
        };
        Ok(KindPlan {
            picks,
            taken,
            cursor,
            crowded: true,
        })
    }

    /// A claim's window: takes up to `room` jobs from the head of the kind, in claim
    /// order, with a lease until `until` (µs), priority by priority, one limit_take.sql
    /// each, and records the starts of a rated kind at once, so the next priority's take
    /// counts them (its running jobs it counts anyway). Returns the rows taken, and whether
    /// the window was crowded: full, its keys at their limits, yet short of the room; only
    /// the walk over the keys then finds the jobs further back that may start.
    pub async fn window_take(
        &mut self,
        conn: &mut SqliteConnection,
        s: &Stored,
        room: usize,
        until: i64,
    ) -> Result<(Vec<SqliteRow>, bool)> {
        let size = window_size(room);
        let since = s
            .limit
            .key_rate
            .map(|rate| self.now.saturating_sub(window_us(rate)));
        let mut taken: Vec<SqliteRow> = Vec::new();
        let mut seen = 0;
        let mut nth = 0;
        while taken.len() < room && seen < size {
            let Some(priority) = self.priorities.nth(conn, self.sql, nth).await? else {
                break;
            };
            nth += 1;
            // Retried when busy: a take outside a transaction can meet another writer.
            let rows = retry_busy!(
                sqlx::query(&self.sql.limit.take)
                    .bind(priority)
                    .bind(self.now)
                    .bind(&s.kind)
                    .bind(limit_of(size - seen))
                    .bind(limit_of(room - taken.len()))
                    .bind(s.limit.key_concurrency.map(i64::from))
                    .bind(since)
                    .bind(s.limit.key_rate.map(|rate| i64::from(rate.count)))
                    .bind(until)
                    .bind(self.alone.then_some(true))
                    .fetch_all(&mut *conn)
                    .await
            )
            .map_err(db_err)?;
            let got = rows.len();
            if s.is_rated() && got > 0 {
                // A key that cannot be read (a damaged row, set aside by the claim) counts
                // as none, as in limit_record.sql.
                let starts: Vec<(&str, Option<String>)> = rows
                    .iter()
                    .map(|r| (s.kind.as_str(), r.try_get("concurrency_key").ok().flatten()))
                    .collect();
                record_starts(conn, self.sql, &starts, self.now).await?;
            }
            taken.extend(rows);
            if taken.len() >= room {
                break;
            }
            // Short of the room: what the window held at this priority, its picks (now
            // running) and what is still pending of it.
            let pending: i64 = retry_busy!(
                sqlx::query_scalar(&self.sql.limit.held)
                    .bind(priority)
                    .bind(self.now)
                    .bind(&s.kind)
                    .bind(limit_of(size - seen - got))
                    .fetch_one(&mut *conn)
                    .await
            )
            .map_err(db_err)?;
            seen += got + as_count(pending);
        }
        let crowded = taken.len() < room && seen >= size;
        Ok((taken, crowded))
    }

    /// Up to `room` picks from the head of the kind, in claim order: its first due jobs,
    /// keyed or not, priority by priority (one statement each, which finds the priority
    /// too), of which limit_window.sql picks those whose keys have room. `None` when the
    /// window was full yet could not fill the room (its keys were at their limits): only
    /// the walk over the keys then finds the jobs further back that may start.
    async fn window(
        &self,
        conn: &mut SqliteConnection,
        s: &Stored,
        room: usize,
    ) -> Result<Option<Vec<Pick>>> {
        let size = window_size(room);
        let since = s
            .limit
            .key_rate
            .map(|rate| self.now.saturating_sub(window_us(rate)));
        let mut picks: Vec<Pick> = Vec::new();
        let mut seen = 0;
        // Each statement finds its priority below the last one's.
        let mut below = Some(i64::from(i32::MAX) + 1);
        while let Some(above) = below.filter(|_| picks.len() < room && seen < size) {
            // Keys picked at higher priorities have that much less room at this one.
            let picked: Vec<&str> = picks.iter().filter_map(|p| p.key.as_deref()).collect();
            let picked = serde_json::to_string(&picked).map_err(QueueError::backend)?;
            let rows: Vec<WindowRow> = sqlx::query_as(&self.sql.limit.window)
                .bind(above)
                .bind(self.now)
                .bind(&s.kind)
                .bind(limit_of(size - seen))
                .bind(limit_of(room - picks.len()))
                .bind(s.limit.key_concurrency.map(i64::from))
                .bind(since)
                .bind(s.limit.key_rate.map(|rate| i64::from(rate.count)))
                .bind(picked)
                .fetch_all(&mut *conn)
                .await
                .map_err(db_err)?;
            below = None;
            let mut found = Vec::new();
            for (rowid, key, due, id, held, priority) in rows {
                match (held, rowid, due) {
                    (Some(n), _, _) => {
                        seen += as_count(n);
                        below = priority;
                    }
                    (None, Some(rowid), Some(due)) => found.push((rowid, key, due, id)),
                    _ => {}
                }
            }
            let priority = below.unwrap_or_default();
            picks.extend(found.into_iter().map(|(rowid, key, due, id)| Pick {
                rowid,
                key,
                order: (Reverse(priority), due, id),
            }));
        }
        Ok((picks.len() >= room || seen < size).then_some(picks))
    }

    /// How many of the kind may start now by its kind-wide parts.
    async fn kind_room(
        &self,
        conn: &mut SqliteConnection,
        s: &Stored,
        running: usize,
    ) -> Result<usize> {
        let mut room = usize::MAX;
        if let Some(n) = s.limit.concurrency {
            room = room.min((n as usize).saturating_sub(running));
        }
        if let (Some(rate), true) = (s.limit.rate, room > 0) {
            let used: i64 = sqlx::query_scalar(&self.sql.limit.starts)
                .bind(&s.kind)
                .bind(self.now.saturating_sub(window_us(rate)))
                .fetch_one(&mut *conn)
                .await
                .map_err(db_err)?;
            room = room.min((rate.count as usize).saturating_sub(as_count(used)));
        }
        Ok(room)
    }

    /// How many of `key` may start now by the kind's per-key parts.
    async fn key_room(&self, conn: &mut SqliteConnection, s: &Stored, key: &str) -> Result<usize> {
        let mut room = usize::MAX;
        if let Some(n) = s.limit.key_concurrency {
            let running: i64 = sqlx::query_scalar(&self.sql.limit.key_running)
                .bind(&s.kind)
                .bind(key)
                .bind(self.now)
                .fetch_one(&mut *conn)
                .await
                .map_err(db_err)?;
            room = room.min((n as usize).saturating_sub(as_count(running)));
        }
        if let (Some(rate), true) = (s.limit.key_rate, room > 0) {
            let used: i64 = sqlx::query_scalar(&self.sql.limit.key_starts)
                .bind(&s.kind)
                .bind(key)
                .bind(self.now.saturating_sub(window_us(rate)))
                .fetch_one(&mut *conn)
                .await
                .map_err(db_err)?;
            room = room.min((rate.count as usize).saturating_sub(as_count(used)));
        }
        Ok(room)
    }

    /// Up to `n` due jobs of `kind` in claim order, priority by priority; only those
    /// without a key unless `keyed`.
    async fn kind_jobs(
        &mut self,
        conn: &mut SqliteConnection,
        kind: &str,
        keyed: bool,
        n: usize,
    ) -> Result<Vec<Pick>> {
        let mut picks = Vec::new();
        let mut nth = 0;
        while let Some(priority) = self.priorities.nth(conn, self.sql, nth).await? {
            nth += 1;
            if picks.len() >= n {
                break;
            }
            let rows: Vec<PickRow> = sqlx::query_as(&self.sql.limit.kind_jobs)
                .bind(priority)
                .bind(self.now)
                .bind(kind)
                .bind(keyed)
                .bind(limit_of(n - picks.len()))
                .fetch_all(&mut *conn)
                .await
                .map_err(db_err)?;
            picks.extend(rows.into_iter().map(Pick::from));
        }
        Ok(picks)
    }

    /// Walks the kind's keys from its cursor, wrapping once, taking up to `room` due keyed
    /// jobs from the keys with room of their own.
    async fn key_walk(
        &mut self,
        conn: &mut SqliteConnection,
        s: &Stored,
        room: usize,
    ) -> Result<KeyWalk> {
        let start = s.cursor.clone();
        // Keys are never empty, so '' sorts before every one of them.
        let mut after = start.clone().unwrap_or_default();
        let mut wrapped = start.is_none();
        let mut walk = KeyWalk::default();
        while walk.picks.len() < room {
            if walk.order.len() >= self.key_probes {
                walk.stopped_at = walk.order.last().cloned();
                break;
            }
            let next: Option<String> = sqlx::query_scalar(&self.sql.limit.next_key)
                .bind(&s.kind)
                .bind(&after)
                .fetch_optional(&mut *conn)
                .await
                .map_err(db_err)?;
            let Some(key) = next else {
                if wrapped {
                    break;
                }
                wrapped = true;
                after.clear();
                continue;
            };
            // The second pass ends with the cursor's own key: every key once.
            if wrapped && start.as_ref().is_some_and(|s| key > *s) {
                break;
            }
            let want = self
                .key_room(conn, s, &key)
                .await?
                .min(room - walk.picks.len());
            if want > 0 {
                let rows: Vec<PickRow> = sqlx::query_as(&self.sql.limit.key_jobs)
                    .bind(&s.kind)
                    .bind(&key)
                    .bind(self.now)
                    .bind(limit_of(want))
                    .fetch_all(&mut *conn)
                    .await
                    .map_err(db_err)?;
                walk.picks.extend(rows.into_iter().map(Pick::from));
            }
            after.clone_from(&key);
            walk.order.push(key);
        }
        Ok(walk)
    }
}

/// What a walk over a kind's keys found.
#[derive(Debug, Default)]
struct KeyWalk {
    /// The keyed picks.
    picks: Vec<Pick>,
    /// The keys probed, in walk order.
    order: Vec<String>,
    /// The last key probed, when the walk stopped for lack of probes.
    stopped_at: Option<String>,
}

/// How many due jobs a window reads for a room of `room`.
fn window_size(room: usize) -> usize {
    room.saturating_mul(WINDOW_PER_PICK)
        .clamp(WINDOW_MIN, WINDOW_MAX)
}

/// Records `starts` ([kind, key] pairs) of rated kinds at `now` (µs).
pub(super) async fn record_starts(
    conn: &mut SqliteConnection,
    sql: &Sql,
    starts: &[(&str, Option<String>)],
    now: i64,
) -> Result<()> {
    let starts = serde_json::to_string(starts).map_err(QueueError::backend)?;
    sqlx::query(&sql.limit.record)
        .bind(starts)
        .bind(now)
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    Ok(())
}

/// A row count as a bound LIMIT.
fn limit_of(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Running jobs (unexpired leases at `now`) of each of `kinds`.
pub(super) async fn running(
    conn: &mut SqliteConnection,
    sql: &Sql,
    kinds: &[&str],
    now: i64,
) -> Result<HashMap<String, usize>> {
    let json = serde_json::to_string(kinds).map_err(queue_core::QueueError::backend)?;
    let rows: Vec<(String, i64)> = sqlx::query_as(&sql.limit.running)
        .bind(now)
        .bind(json)
        .fetch_all(&mut *conn)
        .await
        .map_err(db_err)?;
    Ok(rows.into_iter().map(|(k, n)| (k, as_count(n))).collect())
}

/// The priorities that have pending jobs, highest first, read one probe at a time as a
/// claim goes down them: most claims need the highest only.
#[derive(Debug, Default)]
pub(super) struct Priorities {
    /// Those read so far.
    known: Vec<i64>,
    /// Whether they are all of them.
    complete: bool,
}

impl Priorities {
    /// The priorities from `first`, the highest with pending jobs, read by the caller.
    pub fn from_first(first: i64) -> Priorities {
        Priorities {
            known: vec![first],
            complete: false,
        }
    }

    /// The `n`th priority with pending jobs (0 the highest), if there are that many.
    async fn nth(
        &mut self,
        conn: &mut SqliteConnection,
        sql: &Sql,
        n: usize,
    ) -> Result<Option<i64>> {
        while self.known.len() <= n && !self.complete {
            let below = self
                .known
                .last()
                .copied()
                .unwrap_or(i64::from(i32::MAX) + 1);
            let next: Option<(i64, bool)> = retry_busy!(
                sqlx::query_as(&sql.next_priority)
                    .bind(below)
                    .bind("[]")
                    .fetch_optional(&mut *conn)
                    .await
            )
            .map_err(db_err)?;
            match next {
                Some((priority, _)) => self.known.push(priority),
                None => self.complete = true,
            }
        }
        Ok(self.known.get(n).copied())
    }
}
