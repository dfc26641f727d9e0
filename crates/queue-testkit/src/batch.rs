//! Batch forms: enqueue, claim and ack many jobs in one call.

use std::collections::HashSet;
use std::time::Duration;

use queue_core::{Job, JobId, JobState, QueueError, Stats};
use serde_json::json;

use crate::support::{assert_lease_lost, claim, claim_when_due, enqueue, get, job, lease_of};
use crate::{Factory, Setup};

/// `enqueue_batch` stores every job and returns their ids in input order.
pub async fn enqueue_batch_returns_ids_in_order(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    let mine = JobId::new();
    let jobs: Vec<_> = (0..6)
        .map(|i| {
            let j = Job::new(if i % 2 == 0 { "even" } else { "odd" }, json!({ "n": i }))
                .priority(i % 3);
            if i == 4 {
                j.id(mine)
            } else {
                j
            }
        })
        .collect();
    let ids = q.enqueue_batch(jobs).await.expect("enqueue_batch failed");
    assert_eq!(ids.len(), 6);
    assert_eq!(ids[4], mine, "an explicit id is kept in a batch too");
    assert_eq!(
        ids.iter().collect::<HashSet<_>>().len(),
        6,
        "ids are distinct"
    );
    for (i, id) in ids.iter().enumerate() {
        let j = get(&*q, *id).await;
        assert_eq!(
            j.payload,
            json!({ "n": i }),
            "ids[{i}] is not the {i}th job"
        );
        assert_eq!(j.state, JobState::Pending);
        assert_eq!(j.max_attempts, 3, "defaults are filled in batches too");
    }
    assert_eq!(
        q.enqueue_batch(Vec::new()).await.expect("empty batch"),
        Vec::<JobId>::new()
    );
    assert_eq!(q.stats().await.expect("stats").pending, 6);
}

/// A batch with one invalid job is rejected whole: nothing is stored.
pub async fn enqueue_batch_is_all_or_nothing(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    let jobs = vec![job("a"), job("b"), Job::new("", json!(null)), job("c")];
    match q.enqueue_batch(jobs).await {
        Err(QueueError::InvalidJob(_)) => {}
        other => panic!("a batch with an empty kind: expected Err(InvalidJob), got {other:?}"),
    }
    assert_eq!(
        q.stats().await.expect("stats failed"),
        Stats::default(),
        "no job of a rejected batch may be stored"
    );
    assert!(q.list_jobs(None, 0).await.expect("list_jobs").is_empty());
    assert!(q.dequeue(&[]).await.expect("dequeue").is_none());
}

/// `dequeue_batch(max)` claims at most `max` jobs, best first, each with its own lease.
pub async fn dequeue_batch_respects_max_and_order(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    // Enqueued out of priority order.
    let mut by_priority = Vec::new();
    for p in [3, 9, 0, 7, 5, 1, 8, 2, 6, 4] {
        by_priority.push((p, enqueue(&*q, job("b").priority(p)).await));
    }
    enqueue(&*q, job("other").priority(100)).await;
    by_priority.sort_by_key(|(p, _)| -p);
    let want: Vec<JobId> = by_priority.iter().map(|(_, id)| *id).collect();

    assert!(
        q.dequeue_batch(&["b"], 0)
            .await
            .expect("dequeue_batch")
            .is_empty(),
        "max 0 claims nothing"
    );
    let first = q
        .dequeue_batch(&["b"], 4)
        .await
        .expect("dequeue_batch failed");
    assert_eq!(first.iter().map(|j| j.id).collect::<Vec<_>>(), want[..4]);
    let mut tokens = HashSet::new();
    for j in &first {
        assert_eq!((j.state, j.attempts), (JobState::Running, 1));
        assert!(tokens.insert(lease_of(j).token), "two claims share a token");
    }
    assert_eq!(q.stats().await.expect("stats").running, 4);

    let rest = q
        .dequeue_batch(&["b"], 100)
        .await
        .expect("dequeue_batch failed");
    assert_eq!(rest.iter().map(|j| j.id).collect::<Vec<_>>(), want[4..]);
    assert!(q
        .dequeue_batch(&["b"], 100)
        .await
        .expect("dequeue_batch")
        .is_empty());
    assert_eq!(claim(&*q, &[]).await.kind, "other");
}

/// `ack_batch` gives one result per lease, in order: stale leases fail with `LeaseLost`
/// without affecting the others.
pub async fn ack_batch_reports_per_lease(f: &dyn Factory) {
    let q = f
        .make(Setup::default().lease(Duration::from_millis(150)))
        .await;
    let a = enqueue(&*q, job("a")).await;
    let b = enqueue(&*q, job("x").priority(1)).await;
    let c = enqueue(&*q, job("x")).await;
    let stale = lease_of(&claim(&*q, &["a"]).await);
    q.set_lease_timeout(Duration::from_secs(30));
    let current =
        lease_of(&claim_when_due(&*q, &["a"], a, "the expired lease to be reclaimed").await);
    let bc = q
        .dequeue_batch(&["x"], 2)
        .await
        .expect("dequeue_batch failed");
    assert_eq!(bc.iter().map(|j| j.id).collect::<Vec<_>>(), vec![b, c]);
    let (lb, lc) = (lease_of(&bc[0]), lease_of(&bc[1]));

    let results = q
        .ack_batch(&[lb, stale, lc, current])
        .await
        .expect("ack_batch failed");
    assert_eq!(results.len(), 4, "one result per lease");
    let mut results = results.into_iter();
    results.next().unwrap().expect("ack of b failed");
    assert_lease_lost(results.next().unwrap(), a, "the stale lease in a batch");
    results.next().unwrap().expect("ack of c failed");
    results
        .next()
        .unwrap()
        .expect("ack of a's current lease failed");

    let again = q.ack_batch(&[lb]).await.expect("ack_batch failed");
    assert_eq!(again.len(), 1);
    assert_lease_lost(
        again.into_iter().next().unwrap(),
        b,
        "acking a completed job",
    );
    assert!(q.ack_batch(&[]).await.expect("empty ack_batch").is_empty());
    let stats = q.stats().await.expect("stats failed");
    assert_eq!((stats.pending, stats.running), (0, 0));
}
