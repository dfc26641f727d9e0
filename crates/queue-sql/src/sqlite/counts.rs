//! The counts per state that stats read (migration 4): the queue's own statements move
//! jobs between states here for enqueue, claim and ack, once per batch and in the same
//! transaction; triggers count every other change.

use queue_core::{JobState, Result};
use sqlx::SqliteConnection;

use super::busy::retry_busy;
use super::row::db_err;
use super::sql::Sql;

/// Moves `n` jobs from `from` (`None`: just inserted) to `to`. Must run in the
/// transaction that made the change.
pub(crate) async fn count_move(
    conn: &mut SqliteConnection,
    sql: &Sql,
    from: Option<JobState>,
    to: JobState,
    n: u64,
) -> Result<()> {
    if n == 0 {
        return Ok(());
    }
    retry_busy!(
        sqlx::query(&sql.count_move)
            .bind(from.map(JobState::as_str))
            .bind(to.as_str())
            .bind(i64::try_from(n).unwrap_or(i64::MAX))
            .execute(&mut *conn)
            .await
    )
    .map_err(db_err)?;
    Ok(())
}
