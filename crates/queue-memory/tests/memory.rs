//! MemoryQueue's own rules beyond the shared suite: scale, capacity, retention.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use queue_core::{Browsable, Job, JobState, Queue, QueueError, Replayable};
use queue_memory::MemoryQueue;

/// Claims from a backlog of 1M jobs stay cheap; this would take minutes with a scan per
/// claim. It asserts only the outcome, never the time.
#[tokio::test]
async fn claims_from_a_million_jobs() {
    let q = MemoryQueue::builder().keep_completed(0).build();
    let kinds = ["a", "b", "c", "d"];
    for _ in 0..100 {
        let jobs = (0..10_000)
            .map(|i| Job::new(kinds[i % 4], serde_json::Value::Null).priority((i % 7) as i32))
            .collect();
        q.enqueue_batch(jobs).await.unwrap();
    }
    assert_eq!(q.stats().await.unwrap().pending, 1_000_000);
    for round in 0..1000 {
        let filter: &[&str] = if round % 2 == 0 { &[] } else { &["c", "d"] };
        let job = q.dequeue(filter).await.unwrap().unwrap();
        assert_eq!(job.priority, 6, "the best priority comes first");
        if round % 2 == 1 {
            assert!(job.kind == "c" || job.kind == "d");
        }
        q.ack(&job.lease().unwrap()).await.unwrap();
    }
    assert_eq!(q.stats().await.unwrap().pending, 999_000);
}

#[tokio::test]
async fn capacity_applies_back_pressure_until_room_or_close() {
    let q = Arc::new(MemoryQueue::builder().capacity(2).build());
    q.enqueue(Job::new("k", serde_json::json!(1)))
        .await
        .unwrap();
    q.enqueue(Job::new("k", serde_json::json!(2)))
        .await
        .unwrap();
    assert!(matches!(
        q.try_enqueue(Job::new("k", serde_json::json!(3))),
        Err(QueueError::Full)
    ));
    let waiting = {
        let q = q.clone();
        tokio::spawn(async move { q.enqueue(Job::new("k", serde_json::json!(3))).await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        !waiting.is_finished(),
        "enqueue must wait while the queue is full"
    );
    let job = q.dequeue(&[]).await.unwrap().unwrap();
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
        tokio::spawn(async move { q.enqueue(Job::new("k", serde_json::json!(4))).await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    q.close().await.unwrap();
    let r = tokio::time::timeout(Duration::from_secs(5), blocked)
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(r, Err(QueueError::Closed)));
    // An oversized batch can never fit.
    let q = MemoryQueue::builder().capacity(1).build();
    let two = vec![
        Job::new("k", serde_json::json!(1)),
        Job::new("k", serde_json::json!(2)),
    ];
    assert!(matches!(
        q.enqueue_batch(two).await,
        Err(QueueError::InvalidJob(_))
    ));
}

#[tokio::test]
async fn retention_is_bounded_and_oldest_go_first() {
    let q = MemoryQueue::builder()
        .keep_completed(2)
        .keep_failed(2)
        .build();
    let mut failed = Vec::new();
    for i in 0..4 {
        q.enqueue(Job::new("k", serde_json::json!(i)).max_attempts(1))
            .await
            .unwrap();
        let j = q.dequeue(&[]).await.unwrap().unwrap();
        q.discard(&j.lease().unwrap(), "no").await.unwrap();
        failed.push(j.id);
    }
    for i in 0..3 {
        q.enqueue(Job::new("k", serde_json::json!(i)))
            .await
            .unwrap();
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
