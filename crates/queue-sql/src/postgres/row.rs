//! Turning rows into jobs; a row that cannot be decoded is reported, never a panic.

use queue_core::{ClaimToken, Job, JobId, JobState, Lease, QueueError};
use sqlx::postgres::PgRow;
use sqlx::Row;
use time::OffsetDateTime;

/// Where reads that carry them (get.sql, list_*.sql) put the output, the cancel request
/// and the finish time: after `{columns}`.
pub(crate) const TAIL: usize = 14;

/// Decodes the `{columns}` list (see sql/postgres/columns.sql), and the tail after it
/// (see [`crate::tail`]) when the row has one. On failure returns the raw id, when readable, with the reason.
pub(crate) fn decode(row: &PgRow) -> std::result::Result<Job, (Option<String>, String)> {
    let raw_id: String = row.try_get(0).map_err(|e| (None, e.to_string()))?;
    let fail = |e: String| (Some(raw_id.clone()), e);
    let id: JobId = raw_id
        .parse()
        .map_err(|e: QueueError| fail(e.to_string()))?;
    let get_err = |e: sqlx::Error| fail(e.to_string());
    let payload_text: String = row.try_get(2).map_err(get_err)?;
    let payload = serde_json::from_str(&payload_text).map_err(|e| fail(format!("payload: {e}")))?;
    let state_text: String = row.try_get(6).map_err(get_err)?;
    let state: JobState = state_text
        .parse()
        .map_err(|e: QueueError| fail(e.to_string()))?;
    let attempts: i32 = row.try_get(4).map_err(get_err)?;
    let max_attempts: i32 = row.try_get(5).map_err(get_err)?;
    let token: Option<i64> = row.try_get(11).map_err(get_err)?;
    let lease_at: Option<OffsetDateTime> = row.try_get(12).map_err(get_err)?;
    let tail = crate::tail::read::<_, OffsetDateTime>(row, TAIL).map_err(fail)?;
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
        kind: row.try_get(1).map_err(get_err)?,
        payload,
        priority: row.try_get(3).map_err(get_err)?,
        attempts: u32::try_from(attempts).map_err(|_| fail(format!("attempts {attempts}")))?,
        max_attempts: u32::try_from(max_attempts)
            .map_err(|_| fail(format!("max_attempts {max_attempts}")))?,
        created_at: row.try_get(7).map_err(get_err)?,
        scheduled_at: row.try_get(8).map_err(get_err)?,
        state,
        unique_key: row.try_get(9).map_err(get_err)?,
        concurrency_key: row.try_get(13).map_err(get_err)?,
        last_error: row.try_get(10).map_err(get_err)?,
        lease,
        output: tail.output,
        cancel_requested: tail.cancel_requested,
        finished_at: tail.finished_at,
    })
}

/// Decodes rows, logging and skipping the ones that cannot be read.
pub(crate) fn decode_all(rows: &[PgRow]) -> Vec<Job> {
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

/// Maps a driver error, turning a duplicate primary key into a clear rejection and
/// telling transient failures from the rest ([`crate::classify`]).
pub(crate) fn db_err(e: sqlx::Error) -> QueueError {
    if let Some(db) = e.as_database_error() {
        if db.code().as_deref() == Some("23505")
            && db.constraint().is_some_and(|c| c.ends_with("_pkey"))
        {
            return QueueError::InvalidJob("a job with this id already exists".into());
        }
    }
    crate::classify::classify(e, crate::classify::sqlstate_is_transient)
}
