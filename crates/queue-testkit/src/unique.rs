//! Unique keys: one job per key while the key is held.

use std::time::{Duration, Instant};

use queue_core::{Job, JobState};
use serde_json::json;

use crate::support::{claim, enqueue, get, job, lease_of, wait_for, WAIT};
use crate::{Factory, Setup};

/// A duplicate enqueue while the key is held (pending or running) stores nothing and
/// returns the holder's id; another key is another job.
pub async fn duplicate_returns_holder(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    let a = enqueue(&*q, Job::new("u", json!({ "v": 1 })).unique("k1")).await;
    let dup = enqueue(&*q, Job::new("u", json!({ "v": 2 })).unique("k1")).await;
    assert_eq!(dup, a, "a duplicate returns the holder's id");
    let stored = get(&*q, a).await;
    assert_eq!(
        stored.payload,
        json!({ "v": 1 }),
        "the duplicate must not overwrite"
    );
    assert_eq!(stored.unique_key.as_deref(), Some("k1"));

    let b = enqueue(&*q, job("u").unique("k2")).await;
    assert_ne!(b, a, "another key is another job");
    let w = enqueue(&*q, job("u").unique_for("k3", Duration::from_secs(60))).await;
    assert_eq!(
        enqueue(&*q, job("u").unique_for("k3", Duration::from_secs(60))).await,
        w,
        "a windowed key is held within its window"
    );

    assert_eq!(claim(&*q, &[]).await.id, a);
    assert_eq!(
        enqueue(&*q, job("u").unique("k1")).await,
        a,
        "the key is held while its job runs"
    );
    let stats = q.stats().await.expect("stats failed");
    assert_eq!(
        (stats.pending, stats.running),
        (2, 1),
        "duplicates stored nothing"
    );
}

/// A key without a window is freed when its job ends: completed, failed or cancelled.
pub async fn unique_key_freed_when_job_ends(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;

    let done = enqueue(&*q, job("u").unique("done")).await;
    let j = claim(&*q, &[]).await;
    q.ack(&lease_of(&j)).await.expect("ack failed");
    let again = enqueue(&*q, job("u").unique("done")).await;
    assert_ne!(again, done, "the key of a completed job is free");
    assert_eq!(
        q.cancel(again).await.expect("cancel failed"),
        queue_core::CancelOutcome::Cancelled
    );

    let failed = enqueue(&*q, job("u").unique("fail")).await;
    let j = claim(&*q, &[]).await;
    assert_eq!(j.id, failed);
    q.discard(&lease_of(&j), "no")
        .await
        .expect("discard failed");
    assert_ne!(
        enqueue(&*q, job("u").unique("fail")).await,
        failed,
        "the key of a failed job is free"
    );

    let cancelled = enqueue(&*q, job("u").unique("cancel")).await;
    assert_eq!(
        q.cancel(cancelled).await.expect("cancel failed"),
        queue_core::CancelOutcome::Cancelled
    );
    let again = enqueue(&*q, job("u").unique("cancel")).await;
    assert_ne!(again, cancelled, "the key of a cancelled job is free");
    assert_eq!(get(&*q, again).await.state, JobState::Pending);
}

/// A key with a window is held for the window even after its job completed, and free
/// once the window has passed.
pub async fn unique_window_held_then_freed(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    let window = Duration::from_millis(300);
    let started = Instant::now();
    let first = enqueue(&*q, job("u").unique_for("w", window)).await;
    let j = claim(&*q, &[]).await;
    q.ack(&lease_of(&j)).await.expect("ack failed");
    let dup = enqueue(&*q, job("u").unique_for("w", window)).await;
    // The window began at the first enqueue, after `started`.
    if started.elapsed() < window {
        assert_eq!(
            dup, first,
            "the key is held for its window, even after completion"
        );
        assert!(q.dequeue(&[]).await.expect("dequeue").is_none());
    }
    let next = wait_for("the unique window to pass", WAIT, || async {
        let id = enqueue(&*q, job("u").unique_for("w", window)).await;
        (id != first).then_some(id)
    })
    .await;
    assert_eq!(get(&*q, next).await.state, JobState::Pending);
    let stats = q.stats().await.expect("stats failed");
    assert_eq!(
        stats.pending, 1,
        "one new job for the key, however often it was tried"
    );
}
