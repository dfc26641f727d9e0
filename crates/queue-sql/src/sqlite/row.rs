//! Turning rows into jobs; a row that cannot be decoded is reported, never a panic.

use queue_core::{ClaimToken, Job, JobId, JobState, Lease, QueueError};
use sqlx::sqlite::SqliteRow;
use sqlx::Row;
use time::OffsetDateTime;

/// Microseconds since the epoch, the stored form of every time.
pub(crate) fn to_us(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000).unwrap_or(i64::MAX)
}

/// The inverse of [`to_us`].
pub(crate) fn from_us(us: i64) -> Result<OffsetDateTime, String> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(us) * 1_000)
        .map_err(|e| format!("time {us}: {e}"))
}

/// Decodes the `{columns}` list (see sql/sqlite/columns.sql). On failure returns the raw
/// id, when readable, with the reason.
pub(crate) fn decode(row: &SqliteRow) -> Result<Job, (Option<String>, String)> {
    let raw_id: String = row.try_get(0).map_err(|e| (None, e.to_string()))?;
    let fail = |e: String| (Some(raw_id.clone()), e);
    let get_err = |e: sqlx::Error| fail(e.to_string());
    let id: JobId = raw_id
        .parse()
        .map_err(|e: QueueError| fail(e.to_string()))?;
    let payload_text: String = row.try_get(2).map_err(get_err)?;
    let payload = serde_json::from_str(&payload_text).map_err(|e| fail(format!("payload: {e}")))?;
    let state_text: String = row.try_get(6).map_err(get_err)?;
    let state: JobState = state_text
        .parse()
        .map_err(|e: QueueError| fail(e.to_string()))?;
    let attempts: i64 = row.try_get(4).map_err(get_err)?;
    let max_attempts: i64 = row.try_get(5).map_err(get_err)?;
    let time = |i: usize| -> Result<OffsetDateTime, (Option<String>, String)> {
        let us: i64 = row.try_get(i).map_err(get_err)?;
        from_us(us).map_err(fail)
    };
    let token: Option<i64> = row.try_get(11).map_err(get_err)?;
    let lease_us: Option<i64> = row.try_get(12).map_err(get_err)?;
    let lease = match (state, token, lease_us) {
        (JobState::Running, Some(t), Some(us)) => Some(Lease {
            id,
            token: ClaimToken(t),
            expires_at: from_us(us).map_err(fail)?,
        }),
        _ => None,
    };
    Ok(Job {
        id,
        kind: row.try_get(1).map_err(get_err)?,
        payload,
        priority: row.try_get(3).map_err(get_err)?,
        attempts: u32::try_from(attempts).map_err(|_| fail(format!("attempts {attempts}")))?,
        max_attempts: u32::try_from(max_attempts)
            .map_err(|_| fail(format!("max_attempts {max_attempts}")))?,
        created_at: time(7)?,
        scheduled_at: time(8)?,
        state,
        unique_key: row.try_get(9).map_err(get_err)?,
        last_error: row.try_get(10).map_err(get_err)?,
        lease,
    })
}

/// Decodes rows, logging and skipping the ones that cannot be read.
pub(crate) fn decode_all(rows: &[SqliteRow]) -> Vec<Job> {
    rows.iter()
        .filter_map(|row| match decode(row) {
            Ok(job) => Some(job),
            Err((id, reason)) => {
                tracing::warn!(id = ?id, reason = %reason, "skipping a job row that cannot be decoded");
                None
            }
        })
        .collect()
}

/// Maps a driver error, turning a duplicate primary key into a clear rejection.
pub(crate) fn db_err(e: sqlx::Error) -> QueueError {
    if let Some(db) = e.as_database_error() {
        // SQLITE_CONSTRAINT_PRIMARYKEY
        if db.code().as_deref() == Some("1555") {
            return QueueError::InvalidJob("a job with this id already exists".into());
        }
    }
    QueueError::backend(e)
}
