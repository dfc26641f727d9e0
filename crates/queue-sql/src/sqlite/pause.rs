//! Kinds paused in the database (see sql/sqlite/migrate_3.sql): every claim of every
//! process skips them.

use std::cmp::Reverse;

use queue_core::{validate_kind, Result};
use sqlx::sqlite::SqliteRow;
use sqlx::SqliteConnection;

use super::busy::retry_busy;
use super::row::{db_err, now_us};
use super::SqliteQueue;

/// A due job of an unpaused kind, found by [`SqliteQueue::claim_unpaused`].
struct Candidate {
    priority: i64,
    scheduled_at: i64,
    id: String,
    rowid: i64,
}

impl SqliteQueue {
    /// Stores the pause of `kind`.
    pub(super) async fn pause(&self, kind: &str) -> Result<()> {
        validate_kind(kind)?;
        let mut turn = self.write_turn().await?;
        let r = retry_busy!(
            sqlx::query(&self.sql.pause)
                .bind(kind)
                .bind(now_us())
                .execute(&mut *turn)
                .await
        );
        self.writer.checked(r.map_err(db_err))?;
        Ok(())
    }

    /// Removes the pause of `kind` and wakes this process's idle workers; other
    /// processes notice the commit through their watch.
    pub(super) async fn resume(&self, kind: &str) -> Result<()> {
        validate_kind(kind)?;
        let mut turn = self.write_turn().await?;
        let r = retry_busy!(
            sqlx::query(&self.sql.resume)
                .bind(kind)
                .execute(&mut *turn)
                .await
        );
        self.writer.checked(r.map_err(db_err))?;
        drop(turn);
        self.notifier.notify();
        Ok(())
    }

    /// The paused kinds, sorted.
    pub(super) async fn paused(&self) -> Result<Vec<String>> {
        retry_busy!(
            sqlx::query_scalar(&self.sql.paused)
                .fetch_all(&self.pool)
                .await
        )
        .map_err(db_err)
    }

    /// The paused kinds, read on the claim's connection.
    pub(super) async fn paused_on(&self, conn: &mut SqliteConnection) -> Result<Vec<String>> {
        let r = retry_busy!(
            sqlx::query_scalar(&self.sql.paused)
                .fetch_all(&mut *conn)
                .await
        );
        self.writer.checked(r.map_err(db_err))
    }

    /// Claims up to `max` due jobs of `kinds` (every kind with pending jobs when empty)
    /// but those in `paused`: up to `max` of each kind from the kind index, the best
    /// `max` of them claimed by rowid. `now` and `deadline` in µs.
    pub(super) async fn claim_unpaused(
        &self,
        conn: &mut SqliteConnection,
        kinds: &[&str],
        paused: &[String],
        max: usize,
        now: i64,
        deadline: i64,
    ) -> Result<Vec<SqliteRow>> {
        let mut kinds: Vec<String> = if kinds.is_empty() {
            self.pending_kinds(conn).await?
        } else {
            kinds.iter().map(|k| k.to_string()).collect()
        };
        // A kind named twice would give its jobs twice.
        kinds.sort_unstable();
        kinds.dedup();
        let mut found = Vec::new();
        for kind in kinds.iter().filter(|k| !paused.contains(k)) {
            self.due_of_kind(conn, kind, max, now, &mut found).await?;
        }
        found.sort_by(|a, b| {
            (Reverse(a.priority), a.scheduled_at, &a.id).cmp(&(
                Reverse(b.priority),
                b.scheduled_at,
                &b.id,
            ))
        });
        found.truncate(max);
        if found.is_empty() {
            return Ok(Vec::new());
        }
        let rowids: Vec<i64> = found.iter().map(|c| c.rowid).collect();
        let rowids = serde_json::to_string(&rowids).map_err(queue_core::QueueError::backend)?;
        let r = retry_busy!(
            sqlx::query(&self.sql.claim_rows)
                .bind(now)
                .bind(deadline)
                .bind(&rowids)
                .fetch_all(&mut *conn)
                .await
        );
        self.writer.checked(r.map_err(db_err))
    }

    /// Every kind with pending jobs, one probe of the kind index each.
    async fn pending_kinds(&self, conn: &mut SqliteConnection) -> Result<Vec<String>> {
        let mut kinds = Vec::new();
        let mut after = String::new();
        loop {
            let r = retry_busy!(
                sqlx::query_scalar::<_, String>(&self.sql.kind_after)
                    .bind(&after)
                    .fetch_optional(&mut *conn)
                    .await
            );
            let Some(kind) = self.writer.checked(r.map_err(db_err))? else {
                return Ok(kinds);
            };
            after.clone_from(&kind);
            kinds.push(kind);
        }
    }

    /// Adds up to `max` due jobs of `kind` to `found`, best first: priorities from the
    /// highest down, each read up to its first job not yet due.
    async fn due_of_kind(
        &self,
        conn: &mut SqliteConnection,
        kind: &str,
        max: usize,
        now: i64,
        found: &mut Vec<Candidate>,
    ) -> Result<()> {
        let mut below = i64::from(i32::MAX) + 1;
        let mut got = 0;
        while got < max {
            let r = retry_busy!(
                sqlx::query_scalar::<_, i64>(&self.sql.kind_next_priority)
                    .bind(kind)
                    .bind(below)
                    .fetch_optional(&mut *conn)
                    .await
            );
            let Some(priority) = self.writer.checked(r.map_err(db_err))? else {
                break;
            };
            let r = retry_busy!(
                sqlx::query_as::<_, (i64, i64, String)>(&self.sql.kind_due)
                    .bind(kind)
                    .bind(priority)
                    .bind(now)
                    .bind(i64::try_from(max - got).unwrap_or(i64::MAX))
                    .fetch_all(&mut *conn)
                    .await
            );
            for (rowid, scheduled_at, id) in self.writer.checked(r.map_err(db_err))? {
                got += 1;
                found.push(Candidate {
                    priority,
                    scheduled_at,
                    id,
                    rowid,
                });
            }
            below = priority;
        }
        Ok(())
    }
}
