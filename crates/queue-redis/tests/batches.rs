//! Batches as the Redis backend runs them: `enqueue_batch` in chunks pipelined on one
//! connection, claims and acks that write the indexes once per batch, running jobs
//! indexed by lease deadline alone.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use fred::prelude::ClientLike;
use fred::types::CustomCommand;
use queue_core::{
    Browsable, ClaimToken, Completion, Job, JobId, JobState, Lease, NewJob, Queue, QueueError,
};
use queue_redis::{fred, RedisQueue};
use queue_testkit::Setup;
use serde_json::json;
use support::{fresh_name, keys_of, open, redis_url};

/// More than a few chunks' worth, and not a multiple of the chunk size.
const MANY: usize = 2_345;

async fn queue() -> RedisQueue {
    open(&redis_url(), &fresh_name(), Setup::default()).await
}

fn numbered(n: usize) -> Vec<NewJob> {
    (0..n).map(|i| Job::new("n", json!(i))).collect()
}

/// Ids come back in input order across chunks, every job is stored, and jobs are claimed
/// in enqueue order (all of equal priority and due time, so by id).
#[tokio::test]
async fn a_batch_of_many_chunks_keeps_order() {
    let q = queue().await;
    let ids = q.enqueue_batch(numbered(MANY)).await.unwrap();
    assert_eq!(ids.len(), MANY);
    assert_eq!(q.stats().await.unwrap().pending, MANY as u64);
    let mut claimed = Vec::new();
    loop {
        let batch = q.dequeue_batch(&["n"], 500).await.unwrap();
        if batch.is_empty() {
            break;
        }
        claimed.extend(batch);
    }
    assert_eq!(claimed.len(), MANY);
    for (i, (job, id)) in claimed.iter().zip(&ids).enumerate() {
        assert_eq!(job.id, *id, "claim {i} is not the {i}th job enqueued");
        assert_eq!(job.payload, json!(i), "ids[{i}] is not the {i}th job");
    }
    q.drop_all().await.unwrap();
}

/// A unique key taken early in a batch is held for a job with the same key in a later
/// chunk: the chunks run in order.
#[tokio::test]
async fn unique_keys_resolve_across_chunks_in_order() {
    let q = queue().await;
    let mut jobs = numbered(MANY);
    jobs[3] = Job::new("n", json!("first")).unique("k");
    jobs[MANY - 2] = Job::new("n", json!("late")).unique("k");
    let ids = q.enqueue_batch(jobs).await.unwrap();
    assert_eq!(
        ids[MANY - 2],
        ids[3],
        "the later job resolves to the holder"
    );
    assert_eq!(q.stats().await.unwrap().pending, MANY as u64 - 1);
    q.drop_all().await.unwrap();
}

/// An invalid job in the last chunk rejects the whole call before anything is written.
#[tokio::test]
async fn an_invalid_job_in_a_late_chunk_stores_nothing() {
    let q = queue().await;
    let mut jobs = numbered(MANY);
    jobs[MANY - 1] = Job::new("", json!(null));
    match q.enqueue_batch(jobs).await {
        Err(QueueError::InvalidJob(_)) => {}
        other => panic!("expected Err(InvalidJob), got {other:?}"),
    }
    assert_eq!(q.stats().await.unwrap().pending, 0);
    assert_eq!(keys_of(&q).await, Vec::<String>::new());
}

/// A duplicate id refuses its chunk and every chunk after it, as if the chunks had been
/// sent one by one; the chunks before it are kept, and the stop flag is gone after.
#[tokio::test]
async fn a_refused_chunk_stops_the_chunks_after_it() {
    let q = queue().await;
    let taken = q.enqueue(Job::new("n", json!("old"))).await.unwrap();
    let mut jobs = numbered(MANY);
    // In the third chunk of 250.
    let at = 600;
    jobs[at] = Job::new("n", json!("dup")).id(taken);
    match q.enqueue_batch(jobs).await {
        Err(QueueError::InvalidJob(e)) => assert!(e.contains(&taken.to_string()), "{e}"),
        other => panic!("a duplicate id: expected Err(InvalidJob), got {other:?}"),
    }
    let chunk = 250;
    let kept = at / chunk * chunk;
    assert_eq!(
        q.stats().await.unwrap().pending,
        1 + kept as u64,
        "exactly the chunks before the refused one are stored"
    );
    let stray: Vec<String> = keys_of(&q)
        .await
        .into_iter()
        .filter(|k| k.contains("enqueue-stop"))
        .collect();
    assert!(stray.is_empty(), "stop flag left behind: {stray:?}");
    // The queue takes batches again at once.
    assert_eq!(q.enqueue_batch(numbered(300)).await.unwrap().len(), 300);
    q.drop_all().await.unwrap();
}

/// The same lease twice in one ack batch completes the job once.
#[tokio::test]
async fn a_lease_given_twice_in_one_ack_counts_once() {
    let q = queue().await;
    let id = q.enqueue(Job::new("n", json!(1))).await.unwrap();
    let job = q.dequeue(&["n"]).await.unwrap().unwrap();
    let lease = job.lease().unwrap();
    let results = q.ack_batch(&[lease, lease]).await.unwrap();
    assert!(results[0].is_ok());
    assert!(
        matches!(results[1], Err(QueueError::LeaseLost(lost)) if lost == id),
        "{:?}",
        results[1]
    );
    let s = q.stats().await.unwrap();
    assert_eq!((s.running, s.completed), (0, 1));
    q.drop_all().await.unwrap();
}

/// Retention holds when a whole batch completes at once: only the newest are kept.
#[tokio::test]
async fn retention_holds_for_large_ack_batches() {
    let q = RedisQueue::builder(fresh_name())
        .url(redis_url())
        .keep_last_completed(10)
        .build()
        .await
        .unwrap();
    let ids = q.enqueue_batch(numbered(600)).await.unwrap();
    let jobs = q.dequeue_batch(&["n"], 600).await.unwrap();
    let leases: Vec<_> = jobs.iter().map(|j| j.lease().unwrap()).collect();
    assert!(q
        .ack_batch(&leases)
        .await
        .unwrap()
        .iter()
        .all(Result::is_ok));
    assert_eq!(q.stats().await.unwrap().completed, 10);
    let kept: Vec<JobId> = q
        .list_jobs(Some(JobState::Completed), 100)
        .await
        .unwrap()
        .iter()
        .map(|j| j.id)
        .collect();
    let newest: Vec<JobId> = ids.iter().rev().take(10).copied().collect();
    assert_eq!(kept, newest);
    q.drop_all().await.unwrap();
}

/// Running jobs are listed newest first by id, whatever their lease deadlines, and
/// counted.
#[tokio::test]
async fn running_jobs_are_listed_newest_first() {
    let q = queue().await;
    let ids = q.enqueue_batch(numbered(3)).await.unwrap();
    let jobs = q.dequeue_batch(&["n"], 3).await.unwrap();
    // The oldest job's lease now ends last.
    q.set_lease_timeout(Duration::from_secs(600));
    assert_eq!(
        q.heartbeat(&[jobs[0].lease().unwrap()]).await.unwrap(),
        [queue_core::LeaseStatus::Held]
    );
    let listed: Vec<JobId> = q
        .list_jobs(Some(JobState::Running), 2)
        .await
        .unwrap()
        .iter()
        .map(|j| j.id)
        .collect();
    assert_eq!(listed, [ids[2], ids[1]]);
    assert_eq!(q.stats().await.unwrap().running, 3);
    let all: Vec<JobId> = q
        .list_jobs(None, 0)
        .await
        .unwrap()
        .iter()
        .map(|j| j.id)
        .collect();
    assert_eq!(all, [ids[2], ids[1], ids[0]]);
    q.drop_all().await.unwrap();
    assert_eq!(keys_of(&q).await, Vec::<String>::new());
}

/// After the server forgot the scripts (restart, failover, SCRIPT FLUSH), every chunk of
/// a pipelined batch answers NOSCRIPT: each is sent again with its script, in order.
#[tokio::test]
async fn a_batch_survives_a_script_flush() {
    let q = queue().await;
    let _: fred::prelude::Value = q
        .pool()
        .next()
        .custom(
            CustomCommand::new_static("SCRIPT", None, false),
            vec!["FLUSH"],
        )
        .await
        .unwrap();
    let mut jobs = numbered(MANY);
    jobs[MANY - 1] = Job::new("n", json!("late")).unique("u");
    jobs[2] = Job::new("n", json!("early")).unique("u");
    let ids = q.enqueue_batch(jobs).await.unwrap();
    assert_eq!(ids.len(), MANY);
    assert_eq!(ids[MANY - 1], ids[2], "chunks ran in order");
    assert_eq!(q.stats().await.unwrap().pending, MANY as u64 - 1);
    q.drop_all().await.unwrap();
}

/// Outputs as long as the default limit, enough of them to pass the bytes one script call
/// takes: the batch is split, each output lands on its own job, and a stale lease late in
/// the batch is reported in its place.
#[tokio::test]
async fn large_outputs_split_a_batch_across_calls() {
    const JOBS: usize = 80;
    let q = queue().await;
    let ids = q.enqueue_batch(numbered(JOBS)).await.unwrap();
    let jobs = q.dequeue_batch(&["n"], JOBS).await.unwrap();
    let output = |i: usize| json!(format!("{i:04}").repeat(15_000));
    let mut done: Vec<Completion> = jobs
        .iter()
        .enumerate()
        .map(|(i, j)| Completion::with_output(j.lease().unwrap(), &output(i)).unwrap())
        .collect();
    let last = jobs[JOBS - 1].lease().unwrap();
    let stale = Lease {
        token: ClaimToken(last.token.0.wrapping_add(1)),
        ..last
    };
    done[JOBS - 1] = Completion::with_output(stale, &json!("stale")).unwrap();
    let results = q.complete_batch(&done).await.unwrap();
    assert_eq!(results.len(), JOBS);
    for (i, r) in results.iter().enumerate().take(JOBS - 1) {
        assert!(r.is_ok(), "completion {i}: {r:?}");
    }
    assert!(
        matches!(results[JOBS - 1], Err(QueueError::LeaseLost(lost)) if lost == ids[JOBS - 1]),
        "{:?}",
        results[JOBS - 1]
    );
    for i in [0, JOBS / 2, JOBS - 2] {
        let j = q.get_job(ids[i]).await.unwrap().unwrap();
        assert_eq!(j.output, Some(output(i)), "output of job {i}");
    }
    let s = q.stats().await.unwrap();
    assert_eq!((s.running, s.completed), (1, JOBS as u64 - 1));
    q.drop_all().await.unwrap();
}

/// A queue that keeps no completed jobs keeps no outputs: the job hash goes at once.
#[tokio::test]
async fn outputs_go_with_completed_jobs_that_are_not_kept() {
    let q = RedisQueue::builder(fresh_name())
        .url(redis_url())
        .keep_last_completed(0)
        .build()
        .await
        .unwrap();
    let id = q.enqueue(Job::new("n", json!(1))).await.unwrap();
    let job = q.dequeue(&["n"]).await.unwrap().unwrap();
    let done = Completion::with_output(job.lease().unwrap(), &json!({"big": "result"})).unwrap();
    let results = q.complete_batch(&[done]).await.unwrap();
    assert!(results[0].is_ok(), "{results:?}");
    assert!(q.get_job(id).await.unwrap().is_none());
    let hashes: Vec<String> = keys_of(&q)
        .await
        .into_iter()
        .filter(|k| k.contains(":job:"))
        .collect();
    assert!(hashes.is_empty(), "job hashes left behind: {hashes:?}");
    q.drop_all().await.unwrap();
}

/// `max_output_bytes` replaces the default limit.
#[tokio::test]
async fn a_configured_output_limit_applies() {
    let q = RedisQueue::builder(fresh_name())
        .url(redis_url())
        .max_output_bytes(8)
        .build()
        .await
        .unwrap();
    let ids = q.enqueue_batch(numbered(2)).await.unwrap();
    queue_testkit::output::assert_output_limit_of_eight(&q, "n", [ids[0], ids[1]]).await;
    q.drop_all().await.unwrap();
}
