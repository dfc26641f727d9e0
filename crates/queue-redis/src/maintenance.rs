//! Work the queue does on its own timer: returning expired leases and promoting due
//! delayed jobs (which also wakes workers in other processes). Safe to run from many
//! processes at once: each step is one bounded script.

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use queue_core::{Result, LEASE_EXPIRED};
use tokio::sync::Notify;

use crate::decode::int;
use crate::queue::Inner;

/// Leases or delayed jobs handled per script call.
const BATCH: usize = 1_000;
/// Script calls per tick at most, so one tick stays short under a huge backlog.
const ROUNDS: usize = 100;
/// At most one warning per this period while Redis keeps failing.
const WARN_EVERY: Duration = Duration::from_secs(30);

/// Returns expired leases to the queue (or fails them with [`LEASE_EXPIRED`], or cancels
/// them when a cancel was requested); how many.
pub(crate) async fn reclaim(q: &Inner) -> Result<u64> {
    reclaim_next(q).await.map(|(n, _)| n)
}

/// The time in a script's third reply element (-1: none).
fn next_in(reply: &[fred::prelude::Value]) -> Option<Duration> {
    u64::try_from(reply.get(2).map_or(-1, int))
        .ok()
        .map(Duration::from_millis)
}

/// [`reclaim`], also returning the time until the next lease deadline.
async fn reclaim_next(q: &Inner) -> Result<(u64, Option<Duration>)> {
    let mut total = 0;
    let mut next = None;
    for _ in 0..ROUNDS {
        let args = vec![
            BATCH.to_string(),
            LEASE_EXPIRED.to_string(),
            q.keep_failed.to_string(),
            q.keep_completed.to_string(),
        ];
        let reply = q
            .scripts
            .reclaim
            .run(q.conns.other(), q.keys.common(), args)
            .await?
            .into_array();
        total += u64::try_from(reply.first().map_or(0, int)).unwrap_or(0);
        next = next_in(&reply);
        if reply.get(1).map_or(0, int) == 0 {
            break;
        }
    }
    if total > 0 {
        q.notifier.notify();
    }
    Ok((total, next))
}

/// Moves due delayed jobs into their ready sets; how many, and the time until the next
/// delayed job is due.
async fn promote(q: &Inner) -> Result<(u64, Option<Duration>)> {
    let mut total = 0;
    let mut next = None;
    for _ in 0..ROUNDS {
        let args = vec![BATCH.to_string(), q.keep_failed.to_string()];
        let reply = q
            .scripts
            .promote
            .run(q.conns.other(), q.keys.common(), args)
            .await?
            .into_array();
        total += u64::try_from(reply.first().map_or(0, int)).unwrap_or(0);
        next = next_in(&reply);
        if reply.get(1).map_or(0, int) == 0 {
            break;
        }
    }
    if total > 0 {
        q.notifier.notify();
    }
    Ok((total, next))
}

/// Time until the earliest delayed job is due, by the server clock.
pub(crate) async fn next_due(q: &Inner) -> Option<Duration> {
    let reply = q
        .scripts
        .next_due
        .run(q.conns.other(), q.keys.common(), Vec::new())
        .await
        .ok()?;
    u64::try_from(int(&reply)).ok().map(Duration::from_millis)
}

/// A quarter of the lease, between 50 ms and 5 s.
fn period(q: &Inner) -> Duration {
    (q.lease() / 4).clamp(Duration::from_millis(50), Duration::from_secs(5))
}

/// Runs until the queue is closed or dropped: every [`period`], and also right when the
/// earliest lease or delayed job falls due.
pub(crate) fn spawn(target: Weak<Inner>, retimed: Arc<Notify>) {
    tokio::spawn(async move {
        let mut last_warn: Option<Instant> = None;
        let mut soonest: Option<Duration> = None;
        loop {
            let every = match target.upgrade() {
                Some(q) if !q.is_closed() => period(&q),
                _ => return,
            };
            let wait = match soonest {
                // A little after the deadline, so the server sees it passed.
                Some(d) => every.min(d + Duration::from_millis(2)),
                None => every,
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                // A pass now learns the next lease deadline from the server; the new
                // period alone could sleep past a lease already running out.
                _ = retimed.notified() => {}
            }
            let Some(q) = target.upgrade() else { return };
            if q.is_closed() {
                return;
            }
            let result = async {
                let (n, lease_due) = reclaim_next(&q).await?;
                if n > 0 {
                    tracing::info!(queue = %q.name, jobs = n, "reclaimed expired leases");
                }
                let (_, job_due) = promote(&q).await?;
                Ok::<_, queue_core::QueueError>(match (lease_due, job_due) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                })
            }
            .await;
            soonest = None;
            match result {
                Ok(next) => soonest = next,
                Err(e) => {
                    if last_warn.is_none_or(|t| t.elapsed() >= WARN_EVERY) {
                        last_warn = Some(Instant::now());
                        tracing::warn!(queue = %q.name, error = %queue_core::ErrorChain(&e), "queue maintenance failed; will retry");
                    }
                }
            }
        }
    });
}
