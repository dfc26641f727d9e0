//! Several schedulers with the same schedules against one durable queue (SQLite,
//! Postgres, Redis): each tick is enqueued once, also when a lagging replica catches up on
//! ticks whose jobs have already run. Postgres and Redis come from `DATABASE_URL` /
//! `REDIS_URL` or the local defaults; `QUEUE_SKIP_SERVERS=1` skips them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use common::{at, secs, settle, t0};
use queue_core::{Backend, JobId, Queue};
use queue_redis::RedisQueue;
use queue_scheduler::{ManualClock, Scheduler};
use queue_sql::{SqlOptions, SqlQueue};

/// Registers the shared schedules: every minute, and every five minutes by cron.
fn replica(clock: &ManualClock, queue: &Arc<dyn Backend>) -> Scheduler {
    let s = Scheduler::with_clock(vec![queue.clone() as Arc<dyn Queue>], clock.clone());
    s.every(secs(60))
        .job("minutely", serde_json::json!({"scope": "all"}))
        .catch_up(3)
        .register()
        .unwrap();
    s.cron("*/5 * * * *")
        .job("five", serde_json::json!({"scope": "all"}))
        .catch_up(3)
        .register()
        .unwrap();
    s
}

/// The scheduled-at seconds of the jobs of `kind`, each checked for its payload.
async fn ticks_of(queue: &Arc<dyn Backend>, kind: &str) -> Vec<i64> {
    let jobs = queue.list_jobs(None, 1000).await.unwrap();
    let mut ticks: Vec<i64> = jobs
        .iter()
        .filter(|j| j.kind == kind)
        .inspect(|j| assert_eq!(j.payload, serde_json::json!({"scope": "all"})))
        .map(|j| j.scheduled_at.unix_timestamp())
        .collect();
    ticks.sort_unstable();
    ticks
}

fn minutes(range: std::ops::RangeInclusive<i64>) -> Vec<i64> {
    range.map(|m| at(t0(), 60 * m).timestamp()).collect()
}

/// Three live replicas fire ten minutes of ticks; their jobs all run; then a fourth
/// replica, registered at the start but stalled until now, catches up on its three newest
/// missed ticks. Every tick holds exactly one job throughout.
async fn one_job_per_tick(queue: Arc<dyn Backend>) {
    let clock = ManualClock::new(t0());
    let live: Vec<Scheduler> = (0..3).map(|_| replica(&clock, &queue)).collect();
    let late = replica(&clock, &queue);
    let handles: Vec<_> = live.iter().map(|r| r.start().unwrap()).collect();

    for _ in 0..10 {
        clock.advance(secs(60));
        for r in &live {
            settle(r, &clock).await;
        }
    }
    assert_eq!(ticks_of(&queue, "minutely").await, minutes(1..=10));
    let fives = vec![at(t0(), 300).timestamp(), at(t0(), 600).timestamp()];
    assert_eq!(ticks_of(&queue, "five").await, fives);
    let jobs = queue.list_jobs(None, 1000).await.unwrap();
    let keys: BTreeSet<String> = jobs.iter().map(|j| j.unique_key.clone().unwrap()).collect();
    assert_eq!((jobs.len(), keys.len()), (12, 12), "{jobs:#?}");

    // Run them all: a duplicate must be refused while the tick's window holds, whatever
    // the state of the job that holds it.
    let claimed = queue
        .dequeue_batch(&["minutely", "five"], 100)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 12);
    let leases: Vec<_> = claimed.iter().map(|j| j.lease.unwrap()).collect();
    assert!(queue
        .ack_batch(&leases)
        .await
        .unwrap()
        .iter()
        .all(|r| r.is_ok()));

    let late_handle = late.start().unwrap();
    settle(&late, &clock).await;
    // It did fire its ticks: the queue answered with the jobs already there.
    assert!(late
        .schedules()
        .iter()
        .all(|s| s.last_enqueued == Some(at(t0(), 600))));
    assert_eq!(ticks_of(&queue, "minutely").await, minutes(1..=10));
    assert_eq!(ticks_of(&queue, "five").await, fives);
    let stats = queue.stats().await.unwrap();
    assert_eq!((stats.completed, stats.pending), (12, 0), "{stats:?}");

    for h in handles {
        h.stop().await;
    }
    late_handle.stop().await;
}

fn skip_servers() -> bool {
    let skip = std::env::var("QUEUE_SKIP_SERVERS").is_ok_and(|v| v == "1");
    if skip {
        eprintln!("note: QUEUE_SKIP_SERVERS=1: skipping a test that needs a server");
    }
    skip
}

fn fresh_name() -> String {
    format!("qt_{}", JobId::new().to_string().to_lowercase())
}

#[tokio::test]
async fn sqlite_gets_one_job_per_tick() {
    let path = std::env::temp_dir().join(format!("{}.db", fresh_name()));
    let queue = SqlQueue::connect(&format!("sqlite:{}", path.display()))
        .await
        .unwrap();
    one_job_per_tick(Arc::new(queue.clone())).await;
    queue.drop_schema().await.unwrap();
    queue.close().await.unwrap();
    drop(queue);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

#[tokio::test]
async fn postgres_gets_one_job_per_tick() {
    if skip_servers() {
        return;
    }
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let queue = SqlQueue::connect_with(&url, SqlOptions::default().table(fresh_name()))
        .await
        .unwrap_or_else(|e| {
            panic!("Postgres is not reachable at {url}: {e}; start it or set QUEUE_SKIP_SERVERS=1")
        });
    one_job_per_tick(Arc::new(queue.clone())).await;
    queue.drop_schema().await.unwrap();
}

#[tokio::test]
async fn redis_gets_one_job_per_tick() {
    if skip_servers() {
        return;
    }
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let queue = RedisQueue::builder(fresh_name())
        .url(&url)
        .build()
        .await
        .unwrap_or_else(|e| {
            panic!("Redis is not reachable at {url}: {e}; start it or set QUEUE_SKIP_SERVERS=1")
        });
    let queue = Arc::new(queue);
    one_job_per_tick(queue.clone()).await;
    queue.drop_all().await.unwrap();
}
