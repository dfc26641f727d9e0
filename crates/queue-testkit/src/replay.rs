//! Replaying dead-lettered jobs.

use queue_core::{JobId, JobState, RetryPolicy};
use time::OffsetDateTime;

use crate::support::{claim, enqueue, get, job, lease_of, td, ROUNDING};
use crate::{Factory, Setup};

/// Makes a `failed` job with an old `scheduled_at`; returns its id and the time (by the
/// backend's clock) of the claim that failed it.
async fn failed_job(q: &dyn queue_core::Backend, setup: Setup) -> (JobId, OffsetDateTime) {
    let long_ago = OffsetDateTime::now_utc() - time::Duration::hours(1);
    let id = enqueue(q, job("r").max_attempts(1).run_at(long_ago)).await;
    let j = claim(q, &["r"]).await;
    let lease = lease_of(&j);
    q.nack(&lease, "broken").await.expect("nack failed");
    assert_eq!(get(q, id).await.state, JobState::Failed);
    (id, lease.expires_at - td(setup.lease_timeout))
}

/// Replay moves a failed job back to pending with attempts reset, due now: the next claim
/// is attempt 1.
pub async fn replay_moves_failed_to_pending(f: &dyn Factory) {
    let setup = Setup::default().retry(RetryPolicy::immediate());
    let q = f.make(setup).await;
    let (id, failed_at) = failed_job(&*q, setup).await;

    assert!(
        q.replay(id).await.expect("replay failed"),
        "replay of a failed job"
    );
    let j = get(&*q, id).await;
    assert_eq!(j.state, JobState::Pending);
    assert_eq!(j.attempts, 0, "replay resets attempts");
    assert!(
        j.scheduled_at >= failed_at - ROUNDING,
        "a replayed job is due now, not at its old time ({})",
        j.scheduled_at
    );
    let stats = q.stats().await.expect("stats failed");
    assert_eq!((stats.pending, stats.failed), (1, 0));

    let again = claim(&*q, &[]).await;
    assert_eq!(
        (again.id, again.attempts),
        (id, 1),
        "replayed jobs run at once"
    );
    q.ack(&lease_of(&again)).await.expect("ack failed");
}

/// Replay of an unknown id, or of a job that is not failed, is `Ok(false)` and changes
/// nothing.
pub async fn replay_ignores_unknown_and_not_failed(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    assert!(!q.replay(JobId::new()).await.expect("replay of unknown id"));

    let running = enqueue(&*q, job("r").priority(1)).await;
    let pending = enqueue(&*q, job("r")).await;
    let cancelled = enqueue(&*q, job("other")).await;
    assert_eq!(claim(&*q, &["r"]).await.id, running);
    assert_eq!(
        q.cancel(cancelled).await.expect("cancel failed"),
        queue_core::CancelOutcome::Cancelled
    );

    for (id, state) in [
        (pending, JobState::Pending),
        (running, JobState::Running),
        (cancelled, JobState::Cancelled),
    ] {
        let before = get(&*q, id).await;
        assert!(
            !q.replay(id).await.expect("replay failed"),
            "replay of a {state} job must return false"
        );
        let after = get(&*q, id).await;
        assert_eq!(after.state, state, "replay changed a {state} job");
        assert_eq!(
            after.attempts, before.attempts,
            "replay changed a {state} job"
        );
    }
}

/// A second replay of the same job is a no-op: one pending job, claimed once.
pub async fn replay_twice_is_noop(f: &dyn Factory) {
    let setup = Setup::default().retry(RetryPolicy::immediate());
    let q = f.make(setup).await;
    let (id, _) = failed_job(&*q, setup).await;
    assert!(q.replay(id).await.expect("replay failed"));
    assert!(
        !q.replay(id).await.expect("second replay failed"),
        "the job is pending now, so a second replay does nothing"
    );
    let stats = q.stats().await.expect("stats failed");
    assert_eq!((stats.pending, stats.failed), (1, 0));
    assert_eq!(claim(&*q, &[]).await.id, id);
    assert!(q.dequeue(&[]).await.expect("dequeue").is_none());
}

/// Replay re-takes a unique key held until the job ends, when the key is free: a duplicate
/// enqueue after the replay returns the replayed job. When another job took the key
/// meanwhile, the replay still happens and the key stays with that job.
pub async fn replay_retakes_free_unique_key(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    let dead = |key: &'static str| {
        let q = q.clone();
        async move {
            let id = enqueue(&*q, job(key).unique(key)).await;
            let j = claim(&*q, &[key]).await;
            assert_eq!(j.id, id);
            q.discard(&lease_of(&j), "broken")
                .await
                .expect("discard failed");
            assert_eq!(get(&*q, id).await.state, JobState::Failed);
            id
        }
    };

    let a = dead("free").await;
    assert!(q.replay(a).await.expect("replay failed"));
    let dup = enqueue(&*q, job("free").unique("free")).await;
    assert_eq!(
        dup, a,
        "after replay the key is held by the replayed job again"
    );

    let b = dead("taken").await;
    let other = enqueue(&*q, job("taken").unique("taken")).await;
    assert_ne!(other, b, "the key was free once the job failed");
    assert!(q.replay(b).await.expect("replay failed"));
    assert_eq!(get(&*q, b).await.state, JobState::Pending);
    let dup = enqueue(&*q, job("taken").unique("taken")).await;
    assert_eq!(dup, other, "the key stays with the job that took it first");
}
