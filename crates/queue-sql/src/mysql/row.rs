//! Turning rows into jobs, and MySQL errors into queue errors. A row that cannot be
//! decoded is reported with what could be read of it, never a panic.

use queue_core::{ClaimToken, Job, JobId, JobState, Lease, QueueError};
use sqlx::mysql::{MySqlDatabaseError, MySqlRow};
use sqlx::Row;
use time::OffsetDateTime;

/// Where reads that carry them (get.sql, list.sql) put the output, the cancel request and
/// the finish time: after `{columns}`.
pub(super) const TAIL: usize = 14;

/// ER_DUP_ENTRY: a duplicate key; on the primary key, an explicit job id already taken.
pub(super) const DUPLICATE_KEY: u16 = 1062;

/// What is known of a row that could not be turned into a [`Job`].
#[derive(Debug)]
pub(super) struct Undecodable {
    /// The id as stored, when readable: how the row is set aside.
    pub raw_id: Option<String>,
    /// What was wrong.
    pub reason: String,
}

/// Text of column `i`. Read as bytes: columns with a binary collation (kinds, keys) carry
/// the BINARY flag, which sqlx will not decode as a `String`.
pub(super) fn text(row: &MySqlRow, i: usize) -> Result<String, String> {
    let bytes: Vec<u8> = row.try_get(i).map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|e| format!("column {i}: {e}"))
}

/// Like [`text`], for a column that may be NULL.
pub(super) fn text_opt(row: &MySqlRow, i: usize) -> Result<Option<String>, String> {
    let bytes: Option<Vec<u8>> = row.try_get(i).map_err(|e| e.to_string())?;
    bytes
        .map(|b| String::from_utf8(b).map_err(|e| format!("column {i}: {e}")))
        .transpose()
}

/// Decodes the `{columns}` list (see sql/mysql/columns.sql), and the tail after it when
/// `tail` (get and list; a claim's rows end with the clock instead).
pub(super) fn decode(row: &MySqlRow, tail: bool) -> Result<Job, Undecodable> {
    let raw_id = text(row, 0).ok();
    let fail = |reason: String| Undecodable {
        raw_id: raw_id.clone(),
        reason,
    };
    let get_err = |e: sqlx::Error| fail(e.to_string());
    let id: JobId = match &raw_id {
        Some(t) => t
            .parse()
            .map_err(|e: QueueError| fail(format!("id: {e}")))?,
        None => return Err(fail("id is not text".into())),
    };
    let payload_text = text(row, 2).map_err(&fail)?;
    let payload = serde_json::from_str(&payload_text).map_err(|e| fail(format!("payload: {e}")))?;
    let state: JobState = text(row, 6)
        .map_err(&fail)?
        .parse()
        .map_err(|e: QueueError| fail(format!("state: {e}")))?;
    let attempts: i32 = row.try_get(4).map_err(get_err)?;
    let max_attempts: i32 = row.try_get(5).map_err(get_err)?;
    let token: Option<i64> = row.try_get(11).map_err(get_err)?;
    let lease_at: Option<OffsetDateTime> = row.try_get(12).map_err(get_err)?;
    let tail = if tail {
        crate::tail::read::<_, OffsetDateTime>(row, TAIL).map_err(&fail)?
    } else {
        crate::tail::Tail {
            output: None,
            cancel_requested: false,
            finished_at: None,
        }
    };
    let lease = match (state, token, lease_at) {
        (JobState::Running, Some(t), Some(at)) => Some(Lease {
            id,
            token: ClaimToken(t),
            expires_at: at,
        }),
        _ => None,
    };
    Ok(Job {
        id,
        kind: text(row, 1).map_err(&fail)?,
        payload,
        priority: row.try_get(3).map_err(get_err)?,
        attempts: u32::try_from(attempts).map_err(|_| fail(format!("attempts {attempts}")))?,
        max_attempts: u32::try_from(max_attempts)
            .map_err(|_| fail(format!("max_attempts {max_attempts}")))?,
        created_at: row.try_get(7).map_err(get_err)?,
        scheduled_at: row.try_get(8).map_err(get_err)?,
        state,
        unique_key: text_opt(row, 9).map_err(&fail)?,
        concurrency_key: text_opt(row, 13).map_err(&fail)?,
        last_error: row.try_get(10).map_err(get_err)?,
        lease,
        output: tail.output,
        cancel_requested: tail.cancel_requested,
        finished_at: tail.finished_at,
    })
}

/// Decodes rows for listings, logging and skipping the ones that cannot be read: one bad
/// row must not hide every other job from an admin tool.
pub(super) fn decode_all(rows: &[MySqlRow]) -> Vec<Job> {
    rows.iter()
        .filter_map(|row| match decode(row, true) {
            Ok(job) => Some(job),
            Err(bad) => {
                tracing::warn!(id = ?bad.raw_id, reason = %bad.reason, "skipping a job row that cannot be decoded");
                None
            }
        })
        .collect()
}

/// The server's error number, for a database error.
pub(super) fn number(e: &sqlx::Error) -> Option<u16> {
    e.as_database_error()
        .and_then(|db| db.try_downcast_ref::<MySqlDatabaseError>())
        .map(MySqlDatabaseError::number)
}

/// Deadlocks and lock-wait timeouts: the statement lost a race with another and may
/// simply run again (the transaction it was in is rolled back, or the statement alone).
pub(super) fn is_lock_conflict(e: &sqlx::Error) -> bool {
    matches!(number(e), Some(1213 | 1205))
}

/// Transient MySQL and MariaDB errors, by number: lock conflicts (1205, 1213), too many
/// connections (1040, 1203), out of memory or resources (1037, 1038, 1041), the server
/// shutting down or the connection killed (1053, 1077, 1927, 4031), an interrupted or
/// timed-out query (1317, 3024, 1969), a read-only server after a failover (1290, 1836),
/// and lost connections (2002, 2003, 2006, 2013). Every other error (syntax, constraint,
/// data too long, …) fails again the same way.
pub(super) fn is_transient_number(n: u16) -> bool {
    matches!(
        n,
        1037 | 1038
            | 1040
            | 1041
            | 1053
            | 1077
            | 1203
            | 1205
            | 1213
            | 1290
            | 1317
            | 1836
            | 1927
            | 1969
            | 2002
            | 2003
            | 2006
            | 2013
            | 3024
            | 4031
    )
}

/// Maps a driver error: a taken explicit id is the caller's mistake; other database errors
/// are transient or not by their number; the rest as every dialect judges them
/// ([`crate::classify`]).
pub(crate) fn db_err(e: sqlx::Error) -> QueueError {
    if let Some(db) = e
        .as_database_error()
        .and_then(|db| db.try_downcast_ref::<MySqlDatabaseError>())
    {
        let n = db.number();
        if n == DUPLICATE_KEY && db.message().contains("PRIMARY") {
            return QueueError::InvalidJob("a job with this id already exists".into());
        }
        return if is_transient_number(n) {
            QueueError::backend(e)
        } else {
            QueueError::rejected(e)
        };
    }
    crate::classify::classify(e, |_| true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_conflicts_and_lost_connections_are_transient_and_bad_statements_are_not() {
        for n in [1205, 1213, 1040, 1053, 2006, 2013, 1927, 1290] {
            assert!(is_transient_number(n), "{n}");
        }
        for n in [1062, 1064, 1146, 1406, 1366, 1452, 1048, 0] {
            assert!(!is_transient_number(n), "{n}");
        }
    }
}
