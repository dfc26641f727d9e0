//! Claiming: one `UPDATE … RETURNING` statement per priority with due jobs, highest first,
//! skipping paused kinds; undecodable rows are set aside and their slots claimed again.

use std::sync::atomic::Ordering;

use queue_core::{Job, QueueError, Result};
use sqlx::sqlite::SqliteRow;
use sqlx::SqliteConnection;

use super::busy::{self, retry_busy};
use super::limited::{self, Planner, Priorities, KEY_PROBES};
use super::row::{db_err, decode_claimed, duration_us, now_us, Undecodable};
use super::SqliteQueue;
use crate::text::stored_error;
use crate::BoxFuture;

impl SqliteQueue {
    /// Claims up to `max` due jobs of `kinds` (any kind when empty), best first.
    pub(super) async fn claim(&self, kinds: &[&str], max: usize) -> Result<Vec<Job>> {
        if max == 0 {
            return Ok(Vec::new());
        }
        // serde_json turns an empty slice into "[]", which the statement reads as "any kind".
        let kinds_json = serde_json::to_string(kinds).map_err(QueueError::backend)?;
        crate::refill::claim_refilling(max, |want| self.claim_once(kinds, &kinds_json, want)).await
    }

    /// One claim for up to `max` jobs; returns the good jobs and how many rows could not
    /// be decoded (set aside, or left to their lease).
    async fn claim_once(
        &self,
        kinds: &[&str],
        kinds_json: &str,
        max: usize,
    ) -> Result<(Vec<Job>, usize)> {
        let now = now_us();
        let deadline = now.saturating_add(duration_us(self.lease()));
        // The turn ends before a corrupt row is set aside, which takes its own.
        let rows = {
            let mut turn = self.write_turn().await?;
            let first = self
                .next_priority(&mut turn, kinds_json, i64::from(i32::MAX) + 1)
                .await?;
            // Acks of this process wake its idle workers while limits apply to them.
            self.limited
                .store(first.is_some_and(|(_, l)| l), Ordering::Relaxed);
            match first {
                None => Vec::new(),
                Some((priority, false)) => {
                    self.claim_by_priority(&mut turn, kinds_json, max, now, deadline, priority)
                        .await?
                }
                // Some kind is limited: count and take in one write transaction, unless
                // the only limited kind is limited per key alone: its takes need none.
                Some((priority, true)) => {
                    let claim = LimitedClaim {
                        q: self,
                        kinds,
                        kinds_json,
                        max,
                        now,
                        deadline,
                        priority,
                    };
                    let alone = self.take_alone(&mut turn, &claim).await?;
                    let mut rows = alone.rows;
                    if rows.len() < max {
                        match alone.then {
                            Then::Done => {}
                            Then::Plain => rows.extend(
                                self.claim_by_priority(
                                    &mut turn,
                                    kinds_json,
                                    max - rows.len(),
                                    now,
                                    deadline,
                                    priority,
                                )
                                .await?,
                            ),
                            Then::Transaction => {
                                let rest = LimitedClaim {
                                    max: max - rows.len(),
                                    ..claim
                                };
                                let r = busy::immediate(&mut turn, &rest, limited_claim).await;
                                rows.extend(self.writer.checked(r)?);
                            }
                        }
                    }
                    rows
                }
            }
        };

        let mut jobs = Vec::with_capacity(rows.len());
        let mut bad = 0;
        for row in &rows {
            match decode_claimed(row) {
                Ok(job) => jobs.push(job),
                // One bad row must not cost the batch its good jobs.
                Err(undecodable) => {
                    bad += 1;
                    self.set_aside(undecodable).await;
                }
            }
        }
        Ok((jobs, bad))
    }

    /// The claim of a kind limited per key and in no other way, the only limited kind
    /// among those asked for as the last full claim found: its window, priority by
    /// priority, one limit_take.sql each, outside a transaction. Each take is atomic by
    /// itself and takes nothing if the stored limit is no longer that (or the kind is
    /// paused). What follows, when the takes fall short of `max`: nothing when the kind
    /// was all that was asked for; the plain claim for the other kinds (which steps over
    /// limited ones); or the full claim in a write transaction, when no such kind is known,
    /// when the window was crowded (the walk over its keys must help), or when limits
    /// changed since (limit_alone.sql), the kind then forgotten.
    async fn take_alone(&self, conn: &mut SqliteConnection, c: &LimitedClaim<'_>) -> Result<Alone> {
        let known = self
            .key_limited_alone
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .filter(|(kind, _)| c.kinds.is_empty() || c.kinds.contains(&kind.as_str()));
        let Some((kind, key_concurrency)) = known else {
            return Ok(Alone {
                rows: Vec::new(),
                then: Then::Transaction,
            });
        };
        let stored = limited::Stored {
            kind,
            limit: queue_core::Limit::per_key(key_concurrency),
            cursor: None,
        };
        let mut planner = Planner {
            sql: &self.sql,
            now: c.now,
            priorities: Priorities::from_first(c.priority),
            key_probes: KEY_PROBES,
            lease_until: Some(c.deadline),
            alone: true,
        };
        let r = planner.window_take(conn, &stored, c.max, c.deadline).await;
        let (rows, crowded) = self.writer.checked(r)?;
        if rows.len() >= c.max {
            return Ok(Alone {
                rows,
                then: Then::Done,
            });
        }
        let r = retry_busy!(
            sqlx::query_scalar::<_, bool>(&self.sql.limit.alone)
                .bind(c.kinds_json)
                .bind(&stored.kind)
                .bind(i64::from(key_concurrency))
                .fetch_one(&mut *conn)
                .await
        );
        let still = self.writer.checked(r.map_err(db_err))?;
        let then = if crowded || !still {
            *self
                .key_limited_alone
                .lock()
                .unwrap_or_else(|p| p.into_inner()) = None;
            Then::Transaction
        } else if c.kinds == [stored.kind.as_str()] {
            Then::Done
        } else {
            Then::Plain
        };
        Ok(Alone { rows, then })
    }

    /// The highest priority below `below` with pending jobs, and whether any of the kinds
    /// in `kinds_json` is limited; `None` when no job is pending there.
    async fn next_priority(
        &self,
        conn: &mut SqliteConnection,
        kinds_json: &str,
        below: i64,
    ) -> Result<Option<(i64, bool)>> {
        let r = retry_busy!(
            sqlx::query_as::<_, (i64, bool)>(&self.sql.next_priority)
                .bind(below)
                .bind(kinds_json)
                .fetch_optional(&mut *conn)
                .await
        );
        self.writer.checked(r.map_err(db_err))
    }

    /// One statement per priority with due jobs, from `priority` down. `now` and
    /// `deadline` in µs.
    async fn claim_by_priority(
        &self,
        conn: &mut SqliteConnection,
        kinds_json: &str,
        max: usize,
        now: i64,
        deadline: i64,
        priority: i64,
    ) -> Result<Vec<SqliteRow>> {
        let mut rows = Vec::new();
        // Priorities from the highest down, each read up to its first job not yet due.
        let mut priority = Some(priority);
        while let Some(p) = priority.filter(|_| rows.len() < max) {
            let r = retry_busy!(
                sqlx::query(&self.sql.claim)
                    .bind(now)
                    .bind(deadline)
                    .bind(kinds_json)
                    .bind(i64::try_from(max - rows.len()).unwrap_or(i64::MAX))
                    .bind(p)
                    .fetch_all(&mut *conn)
                    .await
            );
            rows.extend(self.writer.checked(r.map_err(db_err))?);
            if rows.len() >= max {
                break;
            }
            priority = self
                .next_priority(conn, kinds_json, p)
                .await?
                .map(|(p, _)| p);
        }
        Ok(rows)
    }

    /// Marks a claimed row that cannot be decoded as failed with the reason, so it is not
    /// claimed again (a reclaimed lease would just bring it back) and admins can see it.
    async fn set_aside(&self, bad: Undecodable) {
        tracing::error!(
            id = ?bad.raw_id,
            rowid = ?bad.rowid,
            reason = %bad.reason,
            "claimed a job row that cannot be decoded; marking it failed"
        );
        let (Some(rowid), Some(token)) = (bad.rowid, bad.token) else {
            // Only when the driver itself cannot read the row; the lease then runs out
            // and the attempts limit fails it.
            return;
        };
        let reason = stored_error(&format!("corrupt row: {}", bad.reason)).into_owned();
        let r = match self.write_turn().await {
            Ok(mut turn) => {
                let r = retry_busy!(
                    sqlx::query(&self.sql.fail_corrupt)
                        .bind(rowid)
                        .bind(&reason)
                        .bind(now_us())
                        .bind(token)
                        .execute(&mut *turn)
                        .await
                );
                self.writer.checked(r.map_err(db_err))
            }
            Err(e) => Err(e),
        };
        if let Err(e) = r {
            tracing::error!(
                id = ?bad.raw_id,
                rowid,
                error = %queue_core::ErrorChain(&e),
                "could not mark the corrupt row failed; its lease will run out"
            );
        }
    }
}

/// What the takes of a kind limited per key, outside a transaction, brought, and what
/// must follow.
struct Alone {
    /// The rows it took.
    rows: Vec<SqliteRow>,
    /// What claims the rest of the batch.
    then: Then,
}

/// What follows a take short of its batch.
enum Then {
    /// Nothing: the kind was all that was asked for, and it has no more that may start.
    Done,
    /// The plain claim, for the other kinds asked for.
    Plain,
    /// The full claim, in a write transaction.
    Transaction,
}

/// What the limited claim's transaction needs.
struct LimitedClaim<'a> {
    /// The queue.
    q: &'a SqliteQueue,
    /// The kinds asked for (any when empty).
    kinds: &'a [&'a str],
    /// The same, as a JSON array.
    kinds_json: &'a str,
    /// Jobs wanted.
    max: usize,
    /// "Now", µs.
    now: i64,
    /// The lease deadline, µs.
    deadline: i64,
    /// The highest priority with pending jobs, as read before the transaction.
    priority: i64,
}

/// The body of a claim's write transaction when limits are stored: the limited kinds'
/// picks first, then the plain claim (which steps over limited kinds) fills the batch.
fn limited_claim<'c>(
    conn: &'c mut SqliteConnection,
    c: &'c LimitedClaim<'_>,
) -> BoxFuture<'c, Result<Vec<SqliteRow>>> {
    // An `async fn` boxed here, not an async block: sqlx's executor lifetimes otherwise
    // defeat the compiler's `Send` check of the boxed future.
    Box::pin(limited_claim_inner(conn, c))
}

/// See [`limited_claim`].
async fn limited_claim_inner(
    conn: &mut SqliteConnection,
    c: &LimitedClaim<'_>,
) -> Result<Vec<SqliteRow>> {
    let (mut rows, only_limited) = c.q.limited_rows(conn, c).await?;
    // The plain claim steps over every due job of a limited kind: when those are all the
    // kinds asked for, it would read them all to find nothing.
    if rows.len() < c.max && !only_limited {
        if let Some((priority, _)) =
            c.q.next_priority(conn, c.kinds_json, i64::from(i32::MAX) + 1)
                .await?
        {
            let more =
                c.q.claim_by_priority(
                    conn,
                    c.kinds_json,
                    c.max - rows.len(),
                    c.now,
                    c.deadline,
                    priority,
                )
                .await?;
            rows.extend(more);
        }
    }
    Ok(rows)
}

impl SqliteQueue {
    /// Claims what the limits of the kinds asked for let start, inside the caller's write
    /// transaction; records the starts of rated kinds and moves the key cursors. Also tells
    /// whether every kind asked for is limited (and not paused), so the plain claim has
    /// nothing to add.
    async fn limited_rows(
        &self,
        conn: &mut SqliteConnection,
        c: &LimitedClaim<'_>,
    ) -> Result<(Vec<SqliteRow>, bool)> {
        let sql = &self.sql;
        let stored = limited::claimed_limits(conn, sql, c.kinds_json, c.now).await?;
        let only_limited = !c.kinds.is_empty()
            && c.kinds
                .iter()
                .all(|k| stored.iter().any(|(s, _)| s.kind == *k));
        if stored.is_empty() {
            return Ok((Vec::new(), only_limited));
        }
        let mut planner = Planner {
            sql,
            now: c.now,
            priorities: Priorities::from_first(c.priority),
            key_probes: KEY_PROBES,
            lease_until: Some(c.deadline),
            alone: false,
        };
        let mut rows = Vec::new();
        let mut rowids = Vec::new();
        let mut starts: Vec<(&str, Option<String>)> = Vec::new();
        let mut crowded = false;
        for (s, n) in &stored {
            let left = c.max - rows.len() - rowids.len();
            if left == 0 {
                break;
            }
            if s.is_rated() {
                sqlx::query(&sql.limit.trim)
                    .bind(&s.kind)
                    .bind(c.now.saturating_sub(s.longest_window_us()))
                    .execute(&mut *conn)
                    .await
                    .map_err(db_err)?;
            }
            let plan = planner.plan(conn, s, *n, left).await?;
            crowded |= plan.crowded;
            if let Some(cursor) = plan.cursor.filter(|k| s.cursor.as_ref() != Some(k)) {
                sqlx::query(&sql.limit.cursor)
                    .bind(&s.kind)
                    .bind(cursor)
                    .execute(&mut *conn)
                    .await
                    .map_err(db_err)?;
            }
            rows.extend(plan.taken);
            for pick in plan.picks {
                rowids.push(pick.rowid);
                if s.is_rated() {
                    starts.push((&s.kind, pick.key));
                }
            }
        }
        // The only limited kind asked for, limited per key and in no other way, whose
        // window did without the walk over the keys: the next claims take it outside a
        // transaction (`take_alone`). Not when the walk had to help (a crowded window),
        // which those takes cannot do: each claim would read the window twice.
        let alone = match (stored.as_slice(), crowded) {
            ([(s, _)], false) if s.limit.concurrency.is_none() && !s.is_rated() => {
                s.limit.key_concurrency.map(|n| (s.kind.clone(), n))
            }
            _ => None,
        };
        *self
            .key_limited_alone
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = alone;
        if rowids.is_empty() {
            return Ok((rows, only_limited));
        }
        let rowids = serde_json::to_string(&rowids).map_err(QueueError::backend)?;
        rows.extend(
            sqlx::query(&sql.limit.claim)
                .bind(rowids)
                .bind(c.deadline)
                .fetch_all(&mut *conn)
                .await
                .map_err(db_err)?,
        );
        if !starts.is_empty() {
            limited::record_starts(conn, sql, &starts, c.now).await?;
        }
        Ok((rows, only_limited))
    }
}
