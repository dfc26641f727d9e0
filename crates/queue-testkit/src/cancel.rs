//! Cancelling jobs: pending ones at once, running ones on request (see also
//! [`crate::cancel_running`] for the worker's side).

use std::time::Duration;

use queue_core::{CancelOutcome, JobId, JobState, LeaseStatus, RetryPolicy};

use crate::support::{assert_completed, claim, enqueue, get, job, lease_of, wait_until, WAIT};
use crate::{Factory, Setup};

/// Cancel moves a pending job (due or delayed) to `cancelled` at once; it is never
/// claimed. Cancelling again, or an unknown id, changes nothing.
pub async fn cancel_pending_job(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    let due = enqueue(&*q, job("c")).await;
    let delayed = enqueue(&*q, job("c").delay(Duration::from_secs(3600))).await;
    for id in [due, delayed] {
        let got = q.cancel(id).await.expect("cancel failed");
        assert_eq!(got, CancelOutcome::Cancelled);
        let stored = get(&*q, id).await;
        assert_eq!(stored.state, JobState::Cancelled);
        assert!(!stored.cancel_requested, "a pending job needs no request");
    }
    assert_eq!(
        q.cancel(due).await.expect("cancel failed"),
        CancelOutcome::Unchanged,
        "a cancelled job is not cancelled twice"
    );
    assert_eq!(
        q.cancel(JobId::new()).await.expect("cancel of unknown id"),
        CancelOutcome::Unchanged
    );
    assert!(
        q.dequeue(&[]).await.expect("dequeue").is_none(),
        "a cancelled job must never be claimed"
    );
    let stats = q.stats().await.expect("stats failed");
    assert_eq!((stats.pending, stats.cancelled), (0, 2));
}

/// Cancel of a running job records a request, visible on the job and in heartbeats,
/// and leaves it running; asking again is fine. A claimant that completes it anyway
/// (it finished before noticing) leaves it `completed`. Failed and completed jobs are
/// left alone.
pub async fn cancel_of_running_job_is_requested(f: &dyn Factory) {
    let q = f
        .make(Setup::default().retry(RetryPolicy::immediate()))
        .await;
    let running = enqueue(&*q, job("c").priority(1)).await;
    let failed = enqueue(&*q, job("c").max_attempts(1)).await;
    let j = claim(&*q, &[]).await;
    assert_eq!(j.id, running);
    assert!(!j.cancel_requested);
    let f_job = claim(&*q, &[]).await;
    q.discard(&lease_of(&f_job), "gone")
        .await
        .expect("discard failed");

    for _ in 0..2 {
        assert_eq!(
            q.cancel(running).await.expect("cancel failed"),
            CancelOutcome::Requested,
            "a running job gets a cancel request"
        );
    }
    let stored = get(&*q, running).await;
    assert_eq!(
        stored.state,
        JobState::Running,
        "a request does not stop it"
    );
    assert!(stored.cancel_requested, "the request shows on the job");
    assert_eq!(
        q.heartbeat(&[lease_of(&j)])
            .await
            .expect("heartbeat failed"),
        [LeaseStatus::CancelRequested],
        "the heartbeat tells the holder"
    );
    assert_eq!(
        q.cancel(failed).await.expect("cancel failed"),
        CancelOutcome::Unchanged
    );
    assert_eq!(get(&*q, failed).await.state, JobState::Failed);

    q.ack(&lease_of(&j)).await.expect("ack after cancel failed");
    assert_completed(&*q, running).await;
    assert_eq!(
        q.cancel(running).await.expect("cancel failed"),
        CancelOutcome::Unchanged,
        "a completed job must not be cancelled"
    );
    let stats = q.stats().await.expect("stats");
    assert_eq!((stats.completed, stats.cancelled), (1, 0));
}

/// A running job with a cancel request ends `cancelled` whichever way its claimant gives
/// it up: nack (with attempts left), discard, or snooze. None is retried or failed.
pub async fn requested_job_ends_cancelled_when_given_up(f: &dyn Factory) {
    let q = f
        .make(Setup::default().retry(RetryPolicy::immediate()))
        .await;
    let mut ids = Vec::new();
    for p in 0..3 {
        ids.push(enqueue(&*q, job("c").priority(10 - p)).await);
    }
    let mut jobs = Vec::new();
    for id in &ids {
        let j = claim(&*q, &[]).await;
        assert_eq!(j.id, *id);
        assert_eq!(
            q.cancel(j.id).await.expect("cancel failed"),
            CancelOutcome::Requested
        );
        jobs.push(j);
    }
    q.nack(&lease_of(&jobs[0]), "stopped")
        .await
        .expect("nack failed");
    q.discard(&lease_of(&jobs[1]), "stopped")
        .await
        .expect("discard failed");
    q.snooze(&lease_of(&jobs[2]), Duration::ZERO)
        .await
        .expect("snooze failed");
    for (id, how) in ids.iter().zip(["nack", "discard", "snooze"]) {
        let stored = get(&*q, *id).await;
        assert_eq!(stored.state, JobState::Cancelled, "after {how}");
        assert!(stored.lease.is_none(), "after {how}");
    }
    let stats = q.stats().await.expect("stats");
    assert_eq!(
        (stats.pending, stats.running, stats.failed, stats.cancelled),
        (0, 0, 0, 3)
    );
    assert!(
        q.dequeue(&[]).await.expect("dequeue").is_none(),
        "a cancelled job must never be claimed again"
    );
}

/// The lease of a running job with a cancel request runs out (its worker died): it is
/// reclaimed as `cancelled`, not returned to the queue.
pub async fn reclaim_of_requested_job_cancels_it(f: &dyn Factory) {
    let q = f
        .make(Setup::default().lease(Duration::from_millis(300)))
        .await;
    let id = enqueue(&*q, job("c")).await;
    let j = claim(&*q, &[]).await;
    assert_eq!(
        q.cancel(j.id).await.expect("cancel failed"),
        CancelOutcome::Requested
    );
    wait_until("the expired lease to be reclaimed", WAIT, || async {
        let _ = q.reclaim().await.expect("reclaim failed");
        get(&*q, id).await.state != JobState::Running
    })
    .await;
    let stored = get(&*q, id).await;
    assert_eq!(stored.state, JobState::Cancelled);
    assert_eq!(stored.attempts, 1);
    let stats = q.stats().await.expect("stats");
    assert_eq!((stats.pending, stats.running, stats.cancelled), (0, 0, 1));
}
