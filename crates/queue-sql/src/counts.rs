//! Turning the rows of a dialect's `stats.sql` (state, count) into [`Stats`].

use queue_core::{JobState, Stats};

/// The counts of `rows`, with the `paused` kinds. A state no version of the queue writes
/// is logged and left out, rather than failing every stats call.
pub(crate) fn stats_of(rows: Vec<(String, i64)>, paused: Vec<String>) -> Stats {
    let mut stats = Stats {
        paused,
        ..Stats::default()
    };
    for (state, n) in rows {
        match state.parse::<JobState>() {
            Ok(s) => *stats.get_mut(s) = u64::try_from(n).unwrap_or(0),
            Err(_) => tracing::warn!(state, rows = n, "job rows with an unknown state"),
        }
    }
    stats
}
