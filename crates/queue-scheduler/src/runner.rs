//! The run loop and the enqueue of each fired tick.
//!
//! The loop sleeps on the clock until the earliest `next_run` of all schedules (or until a
//! registration or removal wakes it), takes what is due, and spawns one task per
//! schedule fire. Enqueues, and their retries, happen in those tasks, outside any lock, so a
//! slow or failing queue delays only the schedule that uses it.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::schedule::UNIQUE_GRACE;
use crate::scheduler::{Fire, Inner};

/// First wait before retrying a failed enqueue; it doubles per attempt.
pub const RETRY_FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// Longest wait between two enqueue attempts of one tick.
pub const RETRY_MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Runs until `stop` turns true (or its sender, the handle, is dropped), then waits for
/// the fires in flight.
pub(crate) async fn run(inner: Arc<Inner>, mut stop: watch::Receiver<bool>) {
    let mut fires = JoinSet::new();
    loop {
        if *stop.borrow_and_update() {
            break;
        }
        // Reap finished fires so the set does not grow.
        while let Some(done) = fires.try_join_next() {
            log_panic(done);
        }

        let now = inner.clock.now();
        let (due, wake_at) = inner.take_due(now);
        for fire in due {
            fires.spawn(enqueue_fire(inner.clone(), fire, stop.clone()));
        }

        let sleep = async {
            match wake_at {
                Some(t) => inner.clock.sleep_until(t).await,
                // No schedules: wait for a registration.
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = sleep => {}
            () = inner.wake.notified() => {}
            changed = stop.changed() => {
                if changed.is_err() {
                    break;
                }
            }
        }
    }
    while let Some(done) = fires.join_next().await {
        log_panic(done);
    }
}

/// A fire task only fails by panicking (inside a `Queue` implementation); say so.
fn log_panic(done: Result<(), tokio::task::JoinError>) {
    if let Err(e) = done {
        tracing::error!(error = %e, "scheduler: an enqueue task panicked; its tick was not enqueued");
    }
}

/// Enqueues the ticks of one fire, oldest first, retrying transient failures with
/// backoff until the fire's deadline (the schedule's next tick).
async fn enqueue_fire(inner: Arc<Inner>, fire: Fire, mut stop: watch::Receiver<bool>) {
    let Fire {
        def,
        ticks,
        deadline,
    } = fire;
    let Some(queue) = inner.queues.get(def.queue).cloned() else {
        return;
    };
    let windows = unique_windows(&def, &ticks);
    for (tick, window) in ticks.iter().copied().zip(windows) {
        let job = def.job(tick, window);
        let mut backoff = RETRY_FIRST_BACKOFF;
        let mut attempt = 1u32;
        let enqueued = loop {
            match queue.enqueue(job.clone()).await {
                Ok(job_id) => {
                    tracing::debug!(schedule = %def.id, %tick, %job_id, "scheduler: tick enqueued");
                    break true;
                }
                Err(error) => {
                    let stopping = *stop.borrow();
                    let retry_at = chrono::Duration::from_std(backoff)
                        .ok()
                        .and_then(|b| inner.clock.now().checked_add_signed(b));
                    let retry_at = match retry_at {
                        Some(t) if error.is_transient() && !stopping && t < deadline => t,
                        _ => {
                            let reason = if stopping {
                                "the scheduler is stopping"
                            } else if !error.is_transient() {
                                "the error is permanent"
                            } else {
                                "the next tick is due"
                            };
                            tracing::error!(
                                schedule = %def.id, %tick, attempt, error = %queue_core::ErrorChain(&error), reason,
                                "scheduler: tick not enqueued; giving up"
                            );
                            break false;
                        }
                    };
                    tracing::warn!(
                        schedule = %def.id, %tick, attempt, error = %queue_core::ErrorChain(&error), retry_in = ?backoff,
                        "scheduler: enqueue failed; retrying"
                    );
                    tokio::select! {
                        () = inner.clock.sleep_until(retry_at) => {}
                        // A stop (or a dropped handle) cuts the wait short; the loop
                        // then makes one last attempt.
                        _ = stop.wait_for(|s| *s) => {}
                    }
                    backoff = (backoff * 2).min(RETRY_MAX_BACKOFF);
                    attempt += 1;
                }
            }
        };
        inner.settle_tick(&def, tick, enqueued);
    }
}

/// How long each tick's unique key must be held.
///
/// A replica may still try tick `T` as long as `T` is among the newest `keep` due ticks,
/// that is until the `keep`-th tick after `T`; retries stop at the next tick too. So the
/// key is held from `T` to that tick, plus [`UNIQUE_GRACE`] for clock differences.
fn unique_windows(def: &crate::schedule::Definition, ticks: &[DateTime<Utc>]) -> Vec<Duration> {
    let fallback = Duration::from_secs(24 * 60 * 60) + UNIQUE_GRACE;
    let all = def.timing.extend(ticks, def.keep);
    (0..ticks.len())
        .map(|i| match all.get(i + def.keep) {
            Some(until) => (*until - ticks[i])
                .to_std()
                .map_or(fallback, |d| d + UNIQUE_GRACE),
            None => fallback,
        })
        .collect()
}
