//! Kinds paused on the server: a set per queue (`{name}:paused`) that the claim script
//! reads once per call, passing over those kinds' ready sets.

use fred::prelude::SetsInterface;
use queue_core::{validate_kind, QueueError, Result};

use crate::queue::Inner;

/// Adds `kind` to the paused set.
pub(crate) async fn pause(q: &Inner, kind: &str) -> Result<()> {
    validate_kind(kind)?;
    let _added: i64 = q
        .conns
        .other()
        .sadd(q.keys.paused(), kind)
        .await
        .map_err(QueueError::backend)?;
    Ok(())
}

/// Removes `kind` from the paused set and wakes idle workers of every process.
pub(crate) async fn resume(q: &Inner, kind: &str) -> Result<()> {
    validate_kind(kind)?;
    q.scripts
        .resume
        .run(q.conns.other(), q.keys.common(), vec![kind.to_owned()])
        .await?;
    Ok(())
}

/// The paused kinds, sorted.
pub(crate) async fn paused(q: &Inner) -> Result<Vec<String>> {
    let mut kinds: Vec<String> = q
        .conns
        .other()
        .smembers(q.keys.paused())
        .await
        .map_err(QueueError::backend)?;
    kinds.sort_unstable();
    Ok(kinds)
}
