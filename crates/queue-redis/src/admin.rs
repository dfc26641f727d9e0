//! Changes made by hand to single jobs or to old ones: run now, delete, purge. Each is
//! one script, so atomic against every other change (a replay included).

use std::time::Duration;

use queue_core::{check_purge_state, list_limit, JobId, JobState, Result, MAX_DELAY};

use crate::decode::int;
use crate::queue::Inner;

/// Makes a pending job scheduled for later due now (`scripts/run_now.lua`), waking idle
/// workers of every process through the wake channel, and this process's at once.
pub(crate) async fn run_now(q: &Inner, id: JobId) -> Result<bool> {
    let reply = q
        .scripts
        .run_now
        .run(q.conns.other(), q.keys.common(), vec![id.to_string()])
        .await?;
    let moved = int(&reply) == 1;
    if moved {
        q.notifier.notify();
    }
    Ok(moved)
}

/// Deletes one finished job with the unique key it still holds (`scripts/delete.lua`).
pub(crate) async fn delete(q: &Inner, id: JobId) -> Result<bool> {
    let reply = q
        .scripts
        .delete
        .run(q.conns.other(), q.keys.common(), vec![id.to_string()])
        .await?;
    Ok(int(&reply) == 1)
}

/// Deletes up to `limit` (0: 100) jobs that finished in `state` at least `older_than`
/// ago by the server clock, the first to finish first (`scripts/purge.lua`).
pub(crate) async fn purge(
    q: &Inner,
    state: JobState,
    older_than: Duration,
    limit: usize,
) -> Result<u64> {
    check_purge_state(state)?;
    let ms = older_than.min(MAX_DELAY).as_millis();
    let args = vec![
        state.as_str().to_owned(),
        ms.to_string(),
        list_limit(limit).to_string(),
    ];
    let reply = q
        .scripts
        .purge
        .run(q.conns.other(), q.keys.common(), args)
        .await?;
    Ok(u64::try_from(int(&reply)).unwrap_or(0))
}
