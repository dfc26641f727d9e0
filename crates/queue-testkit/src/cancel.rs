//! Cancelling jobs: pending ones only.

use std::time::Duration;

use queue_core::{JobId, JobState, RetryPolicy};

use crate::support::{assert_completed, claim, enqueue, get, job, lease_of};
use crate::{Factory, Setup};

/// Cancel moves a pending job (due or delayed) to `cancelled` and returns true; it is
/// never claimed. Cancelling again, or an unknown id, returns false.
pub async fn cancel_pending_job(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    let due = enqueue(&*q, job("c")).await;
    let delayed = enqueue(&*q, job("c").delay(Duration::from_secs(3600))).await;
    assert!(q.cancel(due).await.expect("cancel failed"));
    assert!(q.cancel(delayed).await.expect("cancel failed"));
    for id in [due, delayed] {
        assert_eq!(get(&*q, id).await.state, JobState::Cancelled);
    }
    assert!(
        !q.cancel(due).await.expect("cancel failed"),
        "a cancelled job is not cancelled twice"
    );
    assert!(!q.cancel(JobId::new()).await.expect("cancel of unknown id"));
    assert!(
        q.dequeue(&[]).await.expect("dequeue").is_none(),
        "a cancelled job must never be claimed"
    );
    let stats = q.stats().await.expect("stats failed");
    assert_eq!((stats.pending, stats.cancelled), (0, 2));
}

/// Cancel leaves running and failed jobs alone (returns false); the running job's
/// claimant can still ack it.
pub async fn cancel_leaves_running_job(f: &dyn Factory) {
    let q = f
        .make(Setup::default().retry(RetryPolicy::immediate()))
        .await;
    let running = enqueue(&*q, job("c").priority(1)).await;
    let failed = enqueue(&*q, job("c").max_attempts(1)).await;
    let j = claim(&*q, &[]).await;
    assert_eq!(j.id, running);
    let f_job = claim(&*q, &[]).await;
    q.discard(&lease_of(&f_job), "gone")
        .await
        .expect("discard failed");

    assert!(
        !q.cancel(running).await.expect("cancel failed"),
        "a running job must not be cancelled"
    );
    assert_eq!(get(&*q, running).await.state, JobState::Running);
    assert!(!q.cancel(failed).await.expect("cancel failed"));
    assert_eq!(get(&*q, failed).await.state, JobState::Failed);

    q.ack(&lease_of(&j)).await.expect("ack after cancel failed");
    assert_completed(&*q, running).await;
    assert!(
        !q.cancel(running).await.expect("cancel failed"),
        "a completed job must not be cancelled"
    );
    assert_eq!(q.stats().await.expect("stats").cancelled, 0);
}
