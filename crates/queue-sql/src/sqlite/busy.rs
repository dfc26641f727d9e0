//! SQLite allows one writer at a time. Writers wait for the lock in the driver's busy
//! timeout; what still comes back busy is retried here, so `SQLITE_BUSY` and
//! `SQLITE_LOCKED` never reach the user. Our own transactions start with
//! `BEGIN IMMEDIATE`, taking the write lock up front: a deferred transaction that read
//! first could only fail on upgrade (`SQLITE_BUSY_SNAPSHOT`), which no wait can fix.

use std::time::Duration;

use queue_core::{QueueError, Result};
use sqlx::{Connection, SqliteConnection};

use super::row::db_err;
use crate::BoxFuture;

/// Tries before a busy error is passed on (each after the driver's own busy wait).
pub(crate) const TRIES: u32 = 8;

/// SQLITE_BUSY_SNAPSHOT: the transaction's snapshot is stale. Retrying the statement
/// cannot help; only the caller can restart its transaction.
const BUSY_SNAPSHOT: i32 = 517;

/// True for SQLITE_BUSY (5), SQLITE_LOCKED (6) and their extended codes, except
/// SQLITE_BUSY_SNAPSHOT.
pub(crate) fn is_busy(e: &sqlx::Error) -> bool {
    e.as_database_error().is_some_and(|db| {
        db.code()
            .and_then(|c| c.parse::<i32>().ok())
            .is_some_and(|c| c != BUSY_SNAPSHOT && matches!(c & 0xff, 5 | 6))
    })
}

/// [`is_busy`] for an error already mapped to a [`QueueError`].
fn is_busy_queue_error(e: &QueueError) -> bool {
    match e {
        QueueError::Backend(source) => source.downcast_ref::<sqlx::Error>().is_some_and(is_busy),
        _ => false,
    }
}

/// The pause before try number `tries + 1`: 2, 4, 8… ms up to 200 ms, with jitter so
/// contending writers do not retry in lockstep.
pub(crate) fn backoff(tries: u32) -> Duration {
    let ms = (2u64 << tries.min(7)).min(200);
    Duration::from_micros(ms * 1_000 / 2 + fastrand::u64(..=ms * 1_000 / 2))
}

/// Evaluates an awaited sqlx expression again while it fails with a busy error. A
/// failed statement has no effect, so running it again is always safe.
macro_rules! retry_busy {
    ($op:expr) => {{
        let mut tries = 1;
        loop {
            match $op {
                Err(e)
                    if $crate::sqlite::busy::is_busy(&e) && tries < $crate::sqlite::busy::TRIES =>
                {
                    tokio::time::sleep($crate::sqlite::busy::backoff(tries)).await;
                    tries += 1;
                }
                other => break other,
            }
        }
    }};
}
pub(crate) use retry_busy;

/// The work of one transaction: a plain function of the connection and a context, so it
/// can be run again from the start when the transaction comes back busy.
pub(crate) type TxBody<C, T> =
    for<'c> fn(&'c mut SqliteConnection, &'c C) -> BoxFuture<'c, Result<T>>;

/// Runs `body` in a `BEGIN IMMEDIATE` transaction on `conn` and commits it. A busy
/// error anywhere (taking the lock, a statement, the commit) rolls back and runs the
/// whole transaction again, up to [`TRIES`] times.
pub(crate) async fn immediate<C: Sync, T>(
    conn: &mut SqliteConnection,
    ctx: &C,
    body: TxBody<C, T>,
) -> Result<T> {
    let mut tries = 1;
    loop {
        let attempt: Result<T> = async {
            // sqlx rolls the transaction back if this future is dropped half-way, so a
            // cancelled call never returns a connection to the pool inside a transaction.
            let mut tx = conn.begin_with("BEGIN IMMEDIATE").await.map_err(db_err)?;
            let out = body(&mut tx, ctx).await?;
            tx.commit().await.map_err(db_err)?;
            Ok(out)
        }
        .await;
        match attempt {
            Err(e) if is_busy_queue_error(&e) && tries < TRIES => {
                tokio::time::sleep(backoff(tries)).await;
                tries += 1;
            }
            other => return other,
        }
    }
}

/// Runs `body` atomically on a connection the caller may already have inside its own
/// transaction: as a savepoint there (the caller's commit or rollback decides), or in a
/// transaction of its own when `conn` is not in one.
pub(crate) async fn atomic<C: Sync, T>(
    conn: &mut SqliteConnection,
    ctx: &C,
    body: TxBody<C, T>,
) -> Result<T> {
    if !conn.is_in_transaction() {
        return immediate(conn, ctx, body).await;
    }
    let mut savepoint = conn.begin().await.map_err(db_err)?;
    let out = body(&mut savepoint, ctx).await?;
    savepoint.commit().await.map_err(db_err)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_stays_bounded() {
        for tries in 1..20 {
            let d = backoff(tries);
            assert!(d >= Duration::from_millis(1) && d <= Duration::from_millis(200));
        }
    }
}
