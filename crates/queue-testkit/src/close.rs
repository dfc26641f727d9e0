//! Closing a queue: no new jobs, nothing accepted is lost.

use queue_core::{JobState, QueueError, Stats};

use crate::support::{claim, enqueue, get, job, lease_of};
use crate::{Factory, Setup};

/// After `close`, enqueues (single and batch) fail with `Closed` and store nothing.
/// Closing twice is fine.
pub async fn enqueue_after_close_fails(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    q.close().await.expect("close failed");
    match q.enqueue(job("c")).await {
        Err(QueueError::Closed) => {}
        other => panic!("enqueue after close: expected Err(Closed), got {other:?}"),
    }
    match q.enqueue_batch(vec![job("c"), job("c")]).await {
        Err(QueueError::Closed) => {}
        other => panic!("enqueue_batch after close: expected Err(Closed), got {other:?}"),
    }
    assert_eq!(q.stats().await.expect("stats failed"), Stats::default());
    q.close().await.expect("a second close failed");
}

/// Jobs accepted before `close` are kept: a claimed job can be acked or nacked, and a
/// pending one can still be claimed.
pub async fn close_keeps_accepted_jobs(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    let a = enqueue(&*q, job("c").priority(2)).await;
    let b = enqueue(&*q, job("c").priority(1)).await;
    let c = enqueue(&*q, job("c")).await;
    let ja = claim(&*q, &[]).await;
    assert_eq!(ja.id, a);
    let jb = claim(&*q, &[]).await;
    q.close().await.expect("close failed");

    q.ack(&lease_of(&ja)).await.expect("ack after close failed");
    q.nack(&lease_of(&jb), "later")
        .await
        .expect("nack after close failed");
    assert_eq!(get(&*q, b).await.state, JobState::Pending);
    let jc = claim(&*q, &[]).await;
    assert_eq!(jc.id, c, "a pending job is still claimable after close");
    q.discard(&lease_of(&jc), "done")
        .await
        .expect("discard after close failed");
    let stats = q.stats().await.expect("stats failed");
    assert_eq!((stats.pending, stats.running, stats.failed), (1, 0, 1));
}
