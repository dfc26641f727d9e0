//! SQLite allows one writer at a time. The busy timeout makes writers wait; this retry is
//! the second line, so `SQLITE_BUSY` never reaches the user.

use std::time::Duration;

/// Tries before a busy error is passed on (each after the driver's own busy wait).
pub(crate) const TRIES: u32 = 8;

/// True for SQLITE_BUSY (5), SQLITE_LOCKED (6) and their extended codes.
pub(crate) fn is_busy(e: &sqlx::Error) -> bool {
    e.as_database_error().is_some_and(|db| {
        db.code()
            .and_then(|c| c.parse::<i32>().ok())
            .is_some_and(|c| matches!(c & 0xff, 5 | 6))
    })
}

/// The pause before try number `tries + 1`.
pub(crate) fn backoff(tries: u32) -> Duration {
    Duration::from_millis((2u64 << tries.min(7)).min(200))
}

/// Evaluates an awaited sqlx expression again while it fails with a busy error.
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
