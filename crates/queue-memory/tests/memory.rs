//! MemoryQueue's own rules beyond the shared suite: scale, capacity, retention, wake-ups.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use queue_core::{Backend, Browsable, Completion, Job, JobState, Queue, QueueError, Replayable};
use queue_memory::MemoryQueue;
use serde_json::json;

/// Claims from a backlog of 1M jobs stay cheap, with and without a kind filter; this
/// would take hours with a scan per claim. It asserts only the outcome, never the time.
#[tokio::test]
async fn claims_from_a_million_jobs() {
    let q = MemoryQueue::builder().keep_last_completed(0).build();
    let kinds = ["a", "b", "c", "d"];
    for _ in 0..100 {
        let jobs = (0..10_000)
            .map(|i| Job::new(kinds[i % 4], serde_json::Value::Null).priority((i % 7) as i32))
            .collect();
        q.enqueue_batch(jobs).await.unwrap();
    }
    // A few delayed jobs too: they must not be claimed.
    let later = (0..1000)
        .map(|_| {
            Job::new("a", json!(null))
                .priority(100)
                .delay(Duration::from_secs(3600))
        })
        .collect();
    q.enqueue_batch(later).await.unwrap();
    assert_eq!(q.stats().await.unwrap().pending, 1_001_000);

    let filters: [&[&str]; 4] = [&[], &["c", "d"], &["b"], &["a", "b", "c", "d"]];
    for round in 0..1000 {
        let filter = filters[round % filters.len()];
        let job = q.dequeue(filter).await.unwrap().unwrap();
        assert_eq!(job.priority, 6, "the best due priority comes first");
        assert!(filter.is_empty() || filter.contains(&job.kind.as_str()));
        q.ack(&job.lease().unwrap()).await.unwrap();
    }
    let batch = q.dequeue_batch(&["d"], 1000).await.unwrap();
    assert_eq!(batch.len(), 1000);
    assert!(batch.iter().all(|j| j.kind == "d"));
    assert!(batch.windows(2).all(|w| w[0].priority >= w[1].priority));
    let s = q.stats().await.unwrap();
    assert_eq!((s.pending, s.running), (999_000, 1000));
}

#[tokio::test]
async fn capacity_applies_back_pressure_until_room_or_close() {
    let q = Arc::new(MemoryQueue::builder().capacity(2).build());
    q.enqueue(Job::new("k", json!(1))).await.unwrap();
    q.enqueue(Job::new("k", json!(2))).await.unwrap();
    assert!(matches!(
        q.try_enqueue(Job::new("k", json!(3))),
        Err(QueueError::Full)
    ));
    let waiting = {
        let q = q.clone();
        tokio::spawn(async move { q.enqueue(Job::new("k", json!(3))).await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        !waiting.is_finished(),
        "enqueue must wait while the queue is full"
    );
    let job = q.dequeue(&[]).await.unwrap().unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!waiting.is_finished(), "a running job still takes room");
    q.ack(&job.lease().unwrap()).await.unwrap();
    let id = tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .expect("the waiting enqueue got room")
        .unwrap()
        .unwrap();
    assert!(q.get_job(id).await.unwrap().is_some());

    // A waiter is released by close, with `Closed`.
    let blocked = {
        let q = q.clone();
        tokio::spawn(async move { q.enqueue(Job::new("k", json!(4))).await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    q.close().await.unwrap();
    let r = tokio::time::timeout(Duration::from_secs(5), blocked)
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(r, Err(QueueError::Closed)));
    assert!(matches!(
        q.try_enqueue(Job::new("k", json!(5))),
        Err(QueueError::Closed)
    ));

    // An oversized batch can never fit.
    let q = MemoryQueue::builder().capacity(1).build();
    let two = vec![Job::new("k", json!(1)), Job::new("k", json!(2))];
    assert!(matches!(
        q.enqueue_batch(two).await,
        Err(QueueError::InvalidJob(_))
    ));
    assert_eq!(q.stats().await.unwrap().pending, 0);
}

/// Room freed by a lease running out (attempts used up) reaches a waiting enqueue
/// although no other call is made.
#[tokio::test]
async fn a_lease_running_out_frees_room_for_a_waiter() {
    let q = Arc::new(
        MemoryQueue::builder()
            .capacity(1)
            .lease_timeout(Duration::from_millis(100))
            .build(),
    );
    let first = q
        .enqueue(Job::new("k", json!(1)).max_attempts(1))
        .await
        .unwrap();
    let _claimed = q.dequeue(&[]).await.unwrap().unwrap();
    let id = tokio::time::timeout(Duration::from_secs(5), q.enqueue(Job::new("k", json!(2))))
        .await
        .expect("room after the lease ran out")
        .unwrap();
    let dead = q.get_job(first).await.unwrap().unwrap();
    assert_eq!(dead.state, JobState::Failed);
    assert_eq!(dead.last_error.as_deref(), Some(queue_core::LEASE_EXPIRED));
    assert_eq!(
        q.get_job(id).await.unwrap().unwrap().state,
        JobState::Pending
    );
}

#[tokio::test]
async fn retention_is_bounded_and_oldest_go_first() {
    let q = MemoryQueue::builder()
        .keep_last_completed(2)
        .keep_last_failed(2)
        .build();
    let mut failed = Vec::new();
    for i in 0..4 {
        q.enqueue(Job::new("k", json!(i)).max_attempts(1))
            .await
            .unwrap();
        let j = q.dequeue(&[]).await.unwrap().unwrap();
        q.discard(&j.lease().unwrap(), "no").await.unwrap();
        failed.push(j.id);
    }
    for i in 0..3 {
        q.enqueue(Job::new("k", json!(i))).await.unwrap();
        let j = q.dequeue(&[]).await.unwrap().unwrap();
        q.ack(&j.lease().unwrap()).await.unwrap();
    }
    let s = q.stats().await.unwrap();
    assert_eq!((s.failed, s.completed), (2, 2));
    let kept: Vec<_> = q
        .list_jobs(Some(JobState::Failed), 0)
        .await
        .unwrap()
        .into_iter()
        .map(|j| j.id)
        .collect();
    assert_eq!(
        kept,
        vec![failed[3], failed[2]],
        "newest first, oldest evicted"
    );
    // An evicted job is gone: replay is a no-op.
    assert!(!q.replay(failed[0]).await.unwrap());
    assert!(q.replay(failed[3]).await.unwrap());
}

#[tokio::test]
async fn subscribers_wake_on_enqueue_and_requeue() {
    let q = MemoryQueue::builder()
        .retry(queue_core::RetryPolicy::immediate())
        .build();
    let mut sub = q.subscribe();
    sub.mark_seen();
    q.enqueue(Job::new("k", json!(1))).await.unwrap();
    assert!(sub.wait(Duration::from_secs(5)).await, "woken by enqueue");

    let j = q.dequeue(&[]).await.unwrap().unwrap();
    sub.mark_seen();
    q.nack(&j.lease().unwrap(), "again").await.unwrap();
    assert!(sub.wait(Duration::from_secs(5)).await, "woken by a retry");

    sub.mark_seen();
    assert!(
        !sub.wait(Duration::from_millis(50)).await,
        "nothing new, no wake-up"
    );
}

#[tokio::test]
async fn next_due_reports_delays_and_leases() {
    let q = MemoryQueue::builder()
        .lease_timeout(Duration::from_secs(60))
        .build();
    assert_eq!(q.next_due(&[]).await, None);
    q.enqueue(Job::new("k", json!(1)).delay(Duration::from_secs(10)))
        .await
        .unwrap();
    let due = q.next_due(&[]).await.unwrap();
    assert!(due <= Duration::from_secs(10) && due > Duration::from_secs(9));
    q.enqueue(Job::new("k", json!(2))).await.unwrap();
    q.dequeue(&[]).await.unwrap().unwrap();
    let due = q.next_due(&["k"]).await.unwrap();
    assert!(
        due <= Duration::from_secs(10),
        "the delayed job comes first"
    );
}

#[tokio::test]
async fn the_lease_timeout_can_change_at_runtime() {
    let q = MemoryQueue::new();
    assert_eq!(q.lease_timeout(), queue_core::DEFAULT_LEASE_TIMEOUT);
    q.set_lease_timeout(Duration::from_millis(50));
    assert_eq!(q.lease_timeout(), Duration::from_millis(50));
    let id = q.enqueue(Job::new("k", json!(1))).await.unwrap();
    let j = q.dequeue(&[]).await.unwrap().unwrap();
    tokio::time::sleep(Duration::from_millis(120)).await;
    assert_eq!(q.reclaim().await.unwrap(), 1);
    assert_eq!(q.reclaim().await.unwrap(), 0);
    assert!(matches!(
        q.ack(&j.lease().unwrap()).await,
        Err(QueueError::LeaseLost(x)) if x == id
    ));
    assert_eq!(
        q.heartbeat(&[j.lease().unwrap()]).await.unwrap(),
        vec![queue_core::LeaseStatus::Lost]
    );
}

#[tokio::test]
async fn works_as_a_trait_object() {
    let backend: Arc<dyn Backend> = Arc::new(MemoryQueue::new());
    let queue: Arc<dyn Queue> = backend.clone();
    let id = queue.enqueue(Job::new("k", json!(1))).await.unwrap();
    assert_eq!(backend.get_job(id).await.unwrap().unwrap().id, id);
    assert!(format!("{:?}", MemoryQueue::new()).contains("MemoryQueue"));
}

/// Construction needs no runtime.
#[test]
fn builds_without_a_runtime() {
    let q = MemoryQueue::builder()
        .lease_timeout(Duration::from_secs(5))
        .retry(queue_core::RetryPolicy::immediate())
        .capacity(10)
        .keep_last_failed(1)
        .keep_last_completed(1)
        .build();
    q.try_enqueue(Job::new("k", json!(1))).unwrap();
    let _ = MemoryQueue::default();
}

/// Outputs live on the retained completed jobs: evicted with them (none kept with
/// `keep_last_completed(0)`), and bounded by `max_output_bytes`.
#[tokio::test]
async fn outputs_follow_retention_and_the_configured_limit() {
    let q = MemoryQueue::builder()
        .keep_last_completed(1)
        .max_output_bytes(8)
        .build();
    let ids = q
        .enqueue_batch((0..3).map(|i| Job::new("k", json!(i))).collect())
        .await
        .unwrap();
    let jobs = q.dequeue_batch(&["k"], 3).await.unwrap();
    let done =
        |i: usize, output: &str| Completion::with_output(jobs[i].lease().unwrap(), output).unwrap();
    let results = q
        .complete_batch(&[done(0, "123456"), done(1, "1234567")])
        .await
        .unwrap();
    assert!(results[0].is_ok(), "{results:?}");
    assert!(
        matches!(&results[1], Err(QueueError::InvalidJob(m)) if m.contains("limit is 8")),
        "{results:?}"
    );
    assert_eq!(
        q.get_job(ids[0]).await.unwrap().unwrap().output,
        Some(json!("123456"))
    );
    let refused = q.get_job(ids[1]).await.unwrap().unwrap();
    assert_eq!((refused.state, refused.output), (JobState::Running, None));
    // A newer completion evicts the oldest completed job, output and all.
    let results = q.complete_batch(&[done(2, "x")]).await.unwrap();
    assert!(results[0].is_ok(), "{results:?}");
    assert!(q.get_job(ids[0]).await.unwrap().is_none());
    assert_eq!(
        q.get_job(ids[2]).await.unwrap().unwrap().output,
        Some(json!("x"))
    );

    let none_kept = MemoryQueue::builder().keep_last_completed(0).build();
    let id = none_kept.enqueue(Job::new("k", json!(1))).await.unwrap();
    let job = none_kept.dequeue(&[]).await.unwrap().unwrap();
    let done = Completion::with_output(job.lease().unwrap(), &json!({"a": 1})).unwrap();
    assert!(none_kept.complete_batch(&[done]).await.unwrap()[0].is_ok());
    assert!(none_kept.get_job(id).await.unwrap().is_none());
}
