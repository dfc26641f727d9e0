//! Several schedulers with the same schedules against one durable queue (SQLite,
//! Postgres, Redis): each tick is enqueued once, also when a lagging replica catches up on
//! ticks whose jobs have already run, or are still running. Postgres and Redis come from
//! `DATABASE_URL` / `REDIS_URL` or the local defaults; `QUEUE_SKIP_SERVERS=1` skips them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use common::{at, secs, settle, t0};
use queue_core::{Backend, JobId, Queue};
use queue_redis::RedisQueue;
use queue_scheduler::{ManualClock, Scheduler};
use queue_sql::{SqlOptions, SqlQueue};
use serde_json::{json, Value};
use tokio::task::JoinError;

fn minutely_payload() -> Value {
    json!({"every": "minute"})
}

fn five_payload() -> Value {
    json!({"cron": "*/5 * * * *"})
}

/// Registers the shared schedules: every minute, and every five minutes by cron.
fn replica(clock: &ManualClock, queue: &Arc<dyn Backend>) -> Scheduler {
    let s = Scheduler::with_clock(vec![queue.clone() as Arc<dyn Queue>], clock.clone());
    s.every(secs(60))
        .job("minutely", minutely_payload())
        .catch_up(3)
        .register()
        .unwrap();
    s.cron("*/5 * * * *")
        .job("five", five_payload())
        .catch_up(3)
        .register()
        .unwrap();
    s
}

/// The scheduled-at seconds of the stored jobs of `kind`, each checked for its payload.
async fn ticks_of(queue: &Arc<dyn Backend>, kind: &str, payload: &Value) -> Vec<i64> {
    let jobs = queue.list_jobs(None, 1000).await.unwrap();
    let mut ticks: Vec<i64> = jobs
        .iter()
        .filter(|j| j.kind == kind)
        .inspect(|j| assert_eq!(&j.payload, payload, "{j:?}"))
        .map(|j| j.scheduled_at.unix_timestamp())
        .collect();
    ticks.sort_unstable();
    ticks
}

fn minutes(range: std::ops::RangeInclusive<i64>) -> Vec<i64> {
    range.map(|m| at(t0(), 60 * m).timestamp()).collect()
}

/// Three live replicas fire ten minutes of ticks. The test then claims every job and
/// finishes the minutely ones, leaving the five-minute ones running. Then a fourth
/// replica, registered at the start but stalled until now, catches up on its newest
/// missed ticks (three minutely ones, both five-minute ones): every one of its enqueues
/// must resolve to the job already there, finished or running. `keeps_completed` says
/// whether the queue retains completed jobs or deletes them at once (the unique window
/// must hold either way).
///
/// The backends time unique windows by their own clock, not the `ManualClock`: the
/// scheduler holds each key for several tick intervals plus a grace of minutes, and the
/// whole scenario takes well under a second of real time, so every window is still held.
async fn one_job_per_tick(queue: Arc<dyn Backend>, keeps_completed: bool) {
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
    let fives = vec![at(t0(), 300).timestamp(), at(t0(), 600).timestamp()];
    assert_eq!(
        ticks_of(&queue, "minutely", &minutely_payload()).await,
        minutes(1..=10)
    );
    assert_eq!(ticks_of(&queue, "five", &five_payload()).await, fives);
    let jobs = queue.list_jobs(None, 1000).await.unwrap();
    let keys: BTreeSet<String> = jobs.iter().map(|j| j.unique_key.clone().unwrap()).collect();
    assert_eq!((jobs.len(), keys.len()), (12, 12), "{jobs:#?}");

    let claimed = queue
        .dequeue_batch(&["minutely", "five"], 100)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 12);
    let (done, running): (Vec<_>, Vec<_>) = claimed.iter().partition(|j| j.kind == "minutely");
    let leases =
        |jobs: &[&queue_core::Job]| -> Vec<_> { jobs.iter().map(|j| j.lease.unwrap()).collect() };
    let acked = queue.ack_batch(&leases(&done)).await.unwrap();
    assert!(acked.iter().all(|r| r.is_ok()), "{acked:?}");

    let late_handle = late.start().unwrap();
    settle(&late, &clock).await;
    // It did fire its ticks: the queue answered with the jobs already there.
    assert!(late
        .schedules()
        .iter()
        .all(|s| s.last_enqueued == Some(at(t0(), 600))));
    // Nothing new to claim, and the running jobs were left alone.
    let again = queue
        .dequeue_batch(&["minutely", "five"], 100)
        .await
        .unwrap();
    assert!(again.is_empty(), "{again:#?}");
    let stats = queue.stats().await.unwrap();
    let completed = if keeps_completed { 10 } else { 0 };
    assert_eq!(
        (stats.pending, stats.running, stats.completed),
        (0, 2, completed),
        "{stats:?}"
    );
    let kept_minutes = if keeps_completed {
        minutes(1..=10)
    } else {
        Vec::new()
    };
    assert_eq!(
        ticks_of(&queue, "minutely", &minutely_payload()).await,
        kept_minutes
    );
    assert_eq!(ticks_of(&queue, "five", &five_payload()).await, fives);
    let acked = queue.ack_batch(&leases(&running)).await.unwrap();
    assert!(acked.iter().all(|r| r.is_ok()), "{acked:?}");

    for h in handles {
        h.stop().await;
    }
    late_handle.stop().await;
}

/// Runs the scenario on its own task, so that a failed assertion still lets the caller
/// clean up before [`rethrow`] passes the failure on.
async fn run(queue: Arc<dyn Backend>, keeps_completed: bool) -> Result<(), JoinError> {
    tokio::spawn(one_job_per_tick(queue, keeps_completed)).await
}

fn rethrow(outcome: Result<(), JoinError>) {
    if let Err(e) = outcome {
        match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(e) => panic!("the scenario did not finish: {e}"),
        }
    }
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
    let outcome = run(Arc::new(queue.clone()), true).await;
    queue.drop_schema().await.unwrap();
    queue.close().await.unwrap();
    drop(queue);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    rethrow(outcome);
}

async fn postgres() -> Option<SqlQueue> {
    if skip_servers() {
        return None;
    }
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let queue = SqlQueue::connect_with(&url, SqlOptions::default().table(fresh_name()))
        .await
        .unwrap_or_else(|e| {
            panic!("Postgres is not reachable at {url}: {e}; start it or set QUEUE_SKIP_SERVERS=1")
        });
    Some(queue)
}

#[tokio::test]
async fn postgres_gets_one_job_per_tick() {
    let Some(queue) = postgres().await else {
        return;
    };
    let outcome = run(Arc::new(queue.clone()), true).await;
    queue.drop_schema().await.unwrap();
    rethrow(outcome);
}

async fn redis(keep_completed: u64) -> Option<Arc<RedisQueue>> {
    if skip_servers() {
        return None;
    }
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let queue = RedisQueue::builder(fresh_name())
        .url(&url)
        .keep_last_completed(keep_completed)
        .build()
        .await
        .unwrap_or_else(|e| {
            panic!("Redis is not reachable at {url}: {e}; start it or set QUEUE_SKIP_SERVERS=1")
        });
    Some(Arc::new(queue))
}

#[tokio::test]
async fn redis_gets_one_job_per_tick() {
    let Some(queue) = redis(1000).await else {
        return;
    };
    let outcome = run(queue.clone(), true).await;
    queue.drop_all().await.unwrap();
    rethrow(outcome);
}

/// A completed job deleted at once leaves its unique key held for the window.
#[tokio::test]
async fn redis_without_retention_gets_one_job_per_tick() {
    let Some(queue) = redis(0).await else {
        return;
    };
    let outcome = run(queue.clone(), false).await;
    queue.drop_all().await.unwrap();
    rethrow(outcome);
}
