//! Turning rows into jobs, and times into their stored form. A row that cannot be decoded
//! is reported with what could be read of it, never a panic.

use std::time::Duration;

use queue_core::{ClaimToken, Job, JobId, JobState, Lease, QueueError};
use sqlx::sqlite::SqliteRow;
use sqlx::Row;
use time::OffsetDateTime;

/// SQLITE_CONSTRAINT_PRIMARYKEY: an explicit job id that is already taken.
const PRIMARY_KEY_VIOLATION: &str = "1555";

/// Microseconds since the Unix epoch, the stored form of every time (sortable integers).
pub(crate) fn to_us(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000).unwrap_or(i64::MAX)
}

/// The inverse of [`to_us`]; fails for times outside what `time` can represent.
pub(crate) fn from_us(us: i64) -> Result<OffsetDateTime, String> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(us) * 1_000)
        .map_err(|e| format!("time {us}: {e}"))
}

/// "Now" by the process clock, which shares the machine with the database file.
///
/// Lease deadlines are stored as wall-clock times on purpose: every process that opens
/// the file reads and reclaims them, and the file outlives reboots, while a monotonic
/// reading means nothing to another process (`Instant`) or after a reboot (the kernel's
/// boot-time clocks restart), and a lease held at a crash must still run out after it.
/// So a step of the system clock does move SQLite's leases and delays; the memory queue,
/// whose leases never leave the process, measures them monotonically.
pub(crate) fn now_us() -> i64 {
    to_us(OffsetDateTime::now_utc())
}

/// A duration in µs, saturating instead of wrapping.
pub(crate) fn duration_us(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

/// What is known of a row that could not be turned into a [`Job`].
#[derive(Debug)]
pub(crate) struct Undecodable {
    /// The row's rowid, when readable: how the row is set aside.
    pub rowid: Option<i64>,
    /// The id column as text, when it is text at all.
    pub raw_id: Option<String>,
    /// The claim token, when readable: it guards setting the row aside.
    pub token: Option<i64>,
    /// What was wrong.
    pub reason: String,
}

/// Where a claim's rows end (see sql/sqlite/claimed_columns.sql); other reads add the
/// state there.
const STATE: usize = 14;
/// Where reads that carry them (get.sql, list.sql) put the output, the cancel request and
/// the finish time: after `{columns}`.
const TAIL: usize = 15;

/// Decodes the `{columns}` list (sql/sqlite/claimed_columns.sql, in that order, then the
/// state), and the tail after it (see [`crate::tail`]) when the row has one.
pub(crate) fn decode(row: &SqliteRow) -> Result<Job, Undecodable> {
    decode_as(row, None)
}

/// Decodes a row a claim returned (`{claimed_columns}`): a job it has just marked running.
pub(crate) fn decode_claimed(row: &SqliteRow) -> Result<Job, Undecodable> {
    decode_as(row, Some(JobState::Running))
}

/// [`decode`], with the state read from the row unless given.
fn decode_as(row: &SqliteRow, known: Option<JobState>) -> Result<Job, Undecodable> {
    let rowid: Option<i64> = row.try_get(12).ok();
    let raw_id: Option<String> = row.try_get(0).ok();
    let raw_token: Option<i64> = row.try_get(10).ok().flatten();
    let fail = |reason: String| Undecodable {
        rowid,
        raw_id: raw_id.clone(),
        token: raw_token,
        reason,
    };
    let get_err = |e: sqlx::Error| fail(e.to_string());
    let id: JobId = match &raw_id {
        Some(text) => text
            .parse()
            .map_err(|e: QueueError| fail(format!("id: {e}")))?,
        None => return Err(fail("id is not text".into())),
    };
    let payload_text: String = row.try_get(2).map_err(get_err)?;
    let payload = serde_json::from_str(&payload_text).map_err(|e| fail(format!("payload: {e}")))?;
    let state = match known {
        Some(state) => state,
        None => {
            let text: String = row.try_get(STATE).map_err(get_err)?;
            text.parse()
                .map_err(|e: QueueError| fail(format!("state: {e}")))?
        }
    };
    // Read as i64 and narrowed here: the driver would truncate out-of-range values silently.
    let int = |i: usize, name: &str| -> Result<i64, Undecodable> {
        row.try_get::<i64, _>(i)
            .map_err(|e| fail(format!("{name}: {e}")))
    };
    let priority = int(3, "priority")?;
    let attempts = int(4, "attempts")?;
    let max_attempts = int(5, "max_attempts")?;
    let time = |i: usize, name: &str| -> Result<OffsetDateTime, Undecodable> {
        from_us(int(i, name)?).map_err(|e| fail(format!("{name}: {e}")))
    };
    let token: Option<i64> = row.try_get(10).map_err(get_err)?;
    let lease_us: Option<i64> = row.try_get(11).map_err(get_err)?;
    let tail = crate::tail::read::<_, i64>(row, TAIL).map_err(fail)?;
    let finished_at = tail
        .finished_at
        .map(from_us)
        .transpose()
        .map_err(|e| fail(format!("finished_at: {e}")))?;
    let lease = match (state, token, lease_us) {
        (JobState::Running, Some(t), Some(us)) => Some(Lease {
            id,
            token: ClaimToken(t),
            expires_at: from_us(us).map_err(|e| fail(format!("lease_expires_at: {e}")))?,
        }),
        _ => None,
    };
    Ok(Job {
        id,
        kind: row.try_get(1).map_err(get_err)?,
        payload,
        priority: i32::try_from(priority).map_err(|_| fail(format!("priority {priority}")))?,
        attempts: u32::try_from(attempts).map_err(|_| fail(format!("attempts {attempts}")))?,
        max_attempts: u32::try_from(max_attempts)
            .map_err(|_| fail(format!("max_attempts {max_attempts}")))?,
        created_at: time(6, "created_at")?,
        scheduled_at: time(7, "scheduled_at")?,
        state,
        unique_key: row.try_get(8).map_err(get_err)?,
        concurrency_key: row.try_get(13).map_err(get_err)?,
        last_error: row.try_get(9).map_err(get_err)?,
        lease,
        output: tail.output,
        cancel_requested: tail.cancel_requested,
        finished_at,
    })
}

/// Decodes rows for listings, logging and skipping the ones that cannot be read: one bad
/// row must not hide every other job from an admin tool.
pub(crate) fn decode_all(rows: &[SqliteRow]) -> Vec<Job> {
    rows.iter()
        .filter_map(|row| match decode(row) {
            Ok(job) => Some(job),
            Err(bad) => {
                tracing::warn!(
                    id = ?bad.raw_id,
                    rowid = ?bad.rowid,
                    reason = %bad.reason,
                    "skipping a job row that cannot be decoded"
                );
                None
            }
        })
        .collect()
}

/// Maps a driver error; a taken explicit id is the caller's mistake, not the database's,
/// and only transient failures are [`QueueError::Backend`] ([`crate::classify`]).
pub(crate) fn db_err(e: sqlx::Error) -> QueueError {
    if let Some(db) = e.as_database_error() {
        if db.code().as_deref() == Some(PRIMARY_KEY_VIOLATION) {
            return QueueError::InvalidJob("a job with this id already exists".into());
        }
    }
    crate::classify::classify(e, crate::classify::sqlite_code_is_transient)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip_in_microseconds() {
        let t = OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_123_456_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        assert_eq!(from_us(to_us(t)), Ok(t));
        assert!(from_us(i64::MAX).is_err());
        assert_eq!(duration_us(Duration::MAX), i64::MAX);
    }
}
