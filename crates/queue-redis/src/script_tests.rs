//! The scripts against a real Redis (`REDIS_URL`, else the local default), with arguments
//! the Rust side never sends (queue-core validates them first): whatever they are, a job
//! ends in a state it can be read back in, in exactly one of its ready set or the delayed
//! set, with a due time within the years 1 to 9999. A NaN once reached a score: the ZADD
//! failed halfway through a script and left the job pending in no set, never claimed; a
//! delay past the range once stored `scheduled_at = i64::MIN`, read back as corrupt.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use fred::prelude::{HashesInterface, SortedSetsInterface};
use queue_core::{Browsable, Job, JobId, JobState, Queue, Replayable, MAX_DELAY};
use time::OffsetDateTime;

use crate::decode::int;
use crate::RedisQueue;

/// The latest due time after a delay: now plus the longest delay, and some slack.
fn after_max_delay() -> OffsetDateTime {
    OffsetDateTime::now_utc() + MAX_DELAY + Duration::from_secs(86_400)
}

async fn open() -> RedisQueue {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let name = format!("qt-{}", JobId::new().to_string().to_lowercase());
    RedisQueue::builder(name)
        .url(&url)
        .build()
        .await
        .unwrap_or_else(|e| {
            panic!("Redis is not reachable at {url}: {e}. Start one or set REDIS_URL.")
        })
}

/// Checks that job `id` of `kind` reads back pending, due no later than `latest`, and sits
/// in exactly one of its ready set or the delayed set with a finite score.
async fn assert_scheduled(
    q: &RedisQueue,
    id: JobId,
    kind: &str,
    latest: OffsetDateTime,
    what: &str,
) {
    let inner = &q.inner;
    let job = q
        .get_job(id)
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"))
        .expect("the job is kept");
    assert_eq!(job.state, JobState::Pending, "{what}");
    assert!(
        job.scheduled_at <= latest,
        "{what}: due {}",
        job.scheduled_at
    );
    let delayed: Option<f64> = inner
        .conns
        .other()
        .zscore(&inner.keys.common()[3], id.to_string())
        .await
        .unwrap();
    let ready: i64 = inner
        .conns
        .other()
        .zcard(inner.keys.ready(kind))
        .await
        .unwrap();
    match delayed {
        Some(score) => {
            assert!(score.is_finite(), "{what}: delayed score {score}");
            assert_eq!(ready, 0, "{what}: in both sets");
        }
        None => assert_eq!(ready, 1, "{what}: in no set"),
    }
}

/// Enqueues a retry-forever job of `kind`, claims it, and sets its attempts to 1,100
/// (2^1099 would be infinite); returns its id and claim token.
async fn claimed(q: &RedisQueue, kind: &str) -> (JobId, String) {
    let id = q
        .enqueue(Job::new(kind, serde_json::json!(null)).max_attempts(u32::MAX))
        .await
        .unwrap();
    let j = q.dequeue(&[kind]).await.unwrap().expect("the job is due");
    let token = j.lease().expect("a claimed job has a lease").token;
    let _: i64 = q
        .inner
        .conns
        .other()
        .hset(q.inner.keys.job(id), ("attempts", "1100"))
        .await
        .unwrap();
    (id, token.0.to_string())
}

#[tokio::test]
async fn nack_never_stores_a_nan_or_infinite_due_time() {
    let q = open().await;
    let inner = &q.inner;
    let odd = ["nan", "-nan", "inf", "-inf", "1e308", "0", "-1", "x", ""];
    let factors = ["nan", "inf", "-1", "2", "0.5", "x"];
    let mut n = 0;
    for base in odd {
        for cap in odd {
            for factor in factors {
                n += 1;
                let kind = format!("k{n}");
                let (id, token) = claimed(&q, &kind).await;
                let args = [&id.to_string(), &token, "boom", base, cap, factor, "10"]
                    .map(str::to_string)
                    .to_vec();
                let what = format!("nack with base {base:?}, cap {cap:?}, factor {factor:?}");
                let reply = inner
                    .scripts
                    .nack
                    .run(inner.conns.other(), inner.keys.common(), args)
                    .await
                    .unwrap_or_else(|e| panic!("{what}: the script failed: {e}"));
                assert_eq!(int(&reply), 1, "{what}");
                assert_scheduled(&q, id, &kind, after_max_delay(), &what).await;
            }
        }
    }
    q.drop_all().await.unwrap();
}

#[tokio::test]
async fn snooze_and_enqueue_keep_due_times_in_range() {
    let q = open().await;
    let inner = &q.inner;
    let odd = [
        "nan",
        "inf",
        "-inf",
        "1e30",
        "-1e30",
        "9223372036854775807",
        "x",
        "",
    ];
    let mut n = 0;
    for delay in odd {
        n += 1;
        let kind = format!("s{n}");
        let (id, token) = claimed(&q, &kind).await;
        let args = [&id.to_string(), &token, delay, "10"]
            .map(str::to_string)
            .to_vec();
        let what = format!("snooze for {delay:?}");
        let reply = inner
            .scripts
            .snooze
            .run(inner.conns.other(), inner.keys.common(), args)
            .await
            .unwrap_or_else(|e| panic!("{what}: the script failed: {e}"));
        assert_eq!(int(&reply), 1, "{what}");
        assert_scheduled(&q, id, &kind, after_max_delay(), &what).await;

        for mode in ["after", "at"] {
            n += 1;
            let kind = format!("e{n}");
            let id = JobId::new();
            let args = [
                "1",
                &id.to_string(),
                &kind,
                "null",
                "0",
                "5",
                mode,
                delay,
                "",
                "",
                "",
            ]
            .map(str::to_string)
            .to_vec();
            let what = format!("enqueue {mode} {delay:?}");
            inner
                .scripts
                .enqueue
                .run(inner.conns.other(), inner.keys.common(), args)
                .await
                .unwrap_or_else(|e| panic!("{what}: the script failed: {e}"));
            let latest = match mode {
                "at" => time::macros::datetime!(9999-12-31 23:59:59.999 UTC),
                _ => after_max_delay(),
            };
            assert_scheduled(&q, id, &kind, latest, &what).await;
        }
    }
    q.drop_all().await.unwrap();
}

/// The ids in a final state's index and in its by-finish-time index, sorted.
async fn final_indexes(q: &RedisQueue, state: JobState) -> (Vec<String>, Vec<String>) {
    let inner = &q.inner;
    let read = |key: String| async move {
        let mut ids: Vec<String> = inner
            .conns
            .other()
            .zrange(key, 0, -1, None, false, None, false)
            .await
            .unwrap();
        ids.sort();
        ids
    };
    let finished = inner.keys.finished(state).expect("a final state");
    (
        read(inner.keys.state(state).to_owned()).await,
        read(finished.to_owned()).await,
    )
}

/// Every move into or out of a final state (finish, retention, replay, set aside, delete,
/// purge) keeps the by-finish-time index purge reads holding exactly the ids of the state
/// index stats count.
#[tokio::test]
async fn finished_index_follows_the_state_index() {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let name = format!("qt-{}", JobId::new().to_string().to_lowercase());
    let q = RedisQueue::builder(name)
        .url(&url)
        .keep_last_completed(3)
        .keep_last_failed(3)
        .build()
        .await
        .unwrap_or_else(|e| panic!("Redis is not reachable at {url}: {e}"));
    let mut failed = Vec::new();
    for i in 0..6 {
        let id = q
            .enqueue(Job::new("k", serde_json::json!(i)).max_attempts(1))
            .await
            .unwrap();
        let j = q.dequeue(&[]).await.unwrap().expect("due");
        let lease = j.lease().unwrap();
        if i % 2 == 0 {
            q.ack(&lease).await.unwrap();
        } else {
            q.nack(&lease, "no").await.unwrap();
            failed.push(id);
        }
    }
    for i in 0..5 {
        let id = q
            .enqueue(Job::new("c", serde_json::json!(i)))
            .await
            .unwrap();
        assert!(q.cancel(id).await.unwrap().is_accepted());
    }
    // Retention evicted the oldest completed job; replay takes one failed job out.
    assert!(q.replay(failed[0]).await.unwrap());
    assert!(q.delete(failed[1]).await.unwrap());
    // A corrupt job claimed is set aside as failed.
    let bad = q
        .enqueue(Job::new("bad", serde_json::json!(null)))
        .await
        .unwrap();
    let _: i64 = q
        .inner
        .conns
        .other()
        .hset(q.inner.keys.job(bad), ("attempts", "x"))
        .await
        .unwrap();
    assert!(q.dequeue(&["bad"]).await.unwrap().is_none());
    assert_eq!(
        q.get_job(bad).await.unwrap().unwrap().state,
        JobState::Failed
    );
    assert_eq!(
        q.purge(JobState::Cancelled, Duration::ZERO, 2)
            .await
            .unwrap(),
        2
    );
    for state in [JobState::Completed, JobState::Failed, JobState::Cancelled] {
        let (by_id, by_time) = final_indexes(&q, state).await;
        assert_eq!(by_id, by_time, "{state}");
    }
    let stats = q.stats().await.unwrap();
    assert_eq!((stats.completed, stats.failed, stats.cancelled), (3, 2, 1));
    q.drop_all().await.unwrap();
}
