//! Many consumers at once: every job delivered exactly once.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use queue_core::{Job, JobId};
use serde_json::json;

use crate::support::{lease_of, Counter};
use crate::{Factory, Setup};

const JOBS: usize = 10_000;
const CONSUMERS: usize = 8;
const BATCH: usize = 50;
/// Bound for the whole drain; a correct in-memory backend needs well under a second.
const DEADLINE: Duration = Duration::from_secs(120);

/// 8 consumers claiming in batches of 50 and acking in batches drain 10,000 jobs: each
/// job is delivered exactly once, none is lost, every ack succeeds.
pub async fn concurrent_consumers_get_each_job_once(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    let mut enqueued = HashSet::with_capacity(JOBS);
    for chunk in 0..JOBS / 1000 {
        let jobs = (0..1000)
            .map(|i| Job::new("c", json!(chunk * 1000 + i)))
            .collect();
        enqueued.extend(q.enqueue_batch(jobs).await.expect("enqueue_batch failed"));
    }
    assert_eq!(enqueued.len(), JOBS, "enqueue_batch returned duplicate ids");

    let acked = Counter::default();
    let deadline = Instant::now() + DEADLINE;
    let consumers: Vec<_> = (0..CONSUMERS)
        .map(|_| {
            let q = Arc::clone(&q);
            let acked = acked.clone();
            tokio::spawn(async move {
                let mut mine: Vec<JobId> = Vec::new();
                loop {
                    let jobs = q
                        .dequeue_batch(&[], BATCH)
                        .await
                        .expect("dequeue_batch failed");
                    if jobs.is_empty() {
                        // Others may still hold jobs; only stop once all are acked.
                        if acked.get() >= JOBS || Instant::now() > deadline {
                            return mine;
                        }
                        tokio::time::sleep(Duration::from_millis(1)).await;
                        continue;
                    }
                    assert!(jobs.len() <= BATCH, "dequeue_batch returned more than max");
                    let leases: Vec<_> = jobs.iter().map(lease_of).collect();
                    let results = q.ack_batch(&leases).await.expect("ack_batch failed");
                    assert_eq!(results.len(), leases.len(), "one ack result per lease");
                    for (lease, r) in leases.iter().zip(results) {
                        if let Err(e) = r {
                            panic!(
                                "ack of job {} failed: {}",
                                lease.id,
                                queue_core::ErrorChain(&e)
                            );
                        }
                        acked.bump();
                    }
                    mine.extend(jobs.iter().map(|j| j.id));
                }
            })
        })
        .collect();

    let mut delivered = HashSet::with_capacity(JOBS);
    let mut duplicates = Vec::new();
    for c in consumers {
        for id in c.await.expect("a consumer panicked") {
            if !delivered.insert(id) {
                duplicates.push(id);
            }
        }
    }
    assert!(
        duplicates.is_empty(),
        "{} jobs were delivered twice, e.g. {:?}",
        duplicates.len(),
        &duplicates[..duplicates.len().min(5)]
    );
    let lost = enqueued.difference(&delivered).count();
    assert_eq!(
        lost, 0,
        "{lost} jobs were never delivered (within {DEADLINE:?})"
    );
    assert_eq!(
        delivered.len(),
        JOBS,
        "jobs were delivered that were never enqueued"
    );
    assert_eq!(acked.get(), JOBS);

    let stats = q.stats().await.expect("stats failed");
    assert_eq!(
        (stats.pending, stats.running, stats.failed, stats.cancelled),
        (0, 0, 0, 0),
        "after the drain: {stats:?}"
    );
    // Completed jobs may be kept for a bounded while only.
    assert!(stats.completed <= JOBS as u64, "{stats:?}");
    assert!(q.dequeue(&[]).await.expect("dequeue").is_none());
}
