//! Several schedulers against one real backend (`queue-memory`): one job per tick.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use common::{at, secs, settle, t0};
use queue_core::{Browsable, Queue};
use queue_memory::MemoryQueue;
use queue_scheduler::{ManualClock, Scheduler};

#[tokio::test]
async fn three_schedulers_on_one_memory_queue_enqueue_each_tick_once() {
    let clock = ManualClock::new(t0());
    let queue = Arc::new(MemoryQueue::new());
    let replicas: Vec<Scheduler> = (0..3)
        .map(|_| {
            let s = Scheduler::with_clock(vec![queue.clone() as Arc<dyn Queue>], clock.clone());
            s.every(secs(60))
                .job("minutely", serde_json::json!({"n": 1}))
                .register()
                .unwrap();
            s.cron("*/5 * * * *").job("five", ()).register().unwrap();
            s
        })
        .collect();
    let handles: Vec<_> = replicas.iter().map(|r| r.start().unwrap()).collect();

    for _ in 0..10 {
        clock.advance(secs(60));
        for r in &replicas {
            settle(r, &clock).await;
        }
    }
    for h in handles {
        h.stop().await;
    }

    let jobs = queue.list_jobs(None, 1000).await.unwrap();
    let ticks_of = |kind: &str| -> BTreeSet<i64> {
        jobs.iter()
            .filter(|j| j.kind == kind)
            .map(|j| j.scheduled_at.unix_timestamp())
            .collect()
    };
    assert_eq!(jobs.len(), 12, "{jobs:#?}");
    let minutes: BTreeSet<i64> = (1..=10).map(|m| at(t0(), 60 * m).timestamp()).collect();
    assert_eq!(ticks_of("minutely"), minutes);
    let fives: BTreeSet<i64> = [300, 600]
        .iter()
        .map(|s| at(t0(), *s).timestamp())
        .collect();
    assert_eq!(ticks_of("five"), fives);
    // Every job carries its schedule's tick key, and no key appears twice.
    let keys: BTreeSet<String> = jobs.iter().map(|j| j.unique_key.clone().unwrap()).collect();
    assert_eq!(keys.len(), 12);
    assert!(keys.iter().all(|k| k.starts_with("sched:")));
    assert_eq!(queue.stats().await.unwrap().pending, 12);
}

/// Typed arguments bring their own priority and attempts (`JobArgs::defaults`, which
/// `#[derive(JobArgs)]` fills from `#[job(...)]`) to every job the schedule fires.
#[tokio::test]
async fn typed_job_args_bring_their_defaults() {
    #[derive(serde::Serialize, serde::Deserialize)]
    struct Report {
        day: u32,
    }
    impl queue_core::JobArgs for Report {
        const KIND: &'static str = "report";
        fn defaults(&self, job: queue_core::NewJob) -> queue_core::NewJob {
            job.priority(7).max_attempts(9)
        }
    }
    let clock = ManualClock::new(t0());
    let queue = Arc::new(MemoryQueue::new());
    let s = Scheduler::with_clock(vec![queue.clone() as Arc<dyn Queue>], clock.clone());
    s.every(secs(60))
        .job_args(&Report { day: 1 })
        .register()
        .unwrap();
    let handle = s.start().unwrap();
    clock.advance(secs(60));
    settle(&s, &clock).await;
    handle.stop().await;
    let jobs = queue.list_jobs(None, 10).await.unwrap();
    assert_eq!(jobs.len(), 1, "{jobs:#?}");
    assert_eq!((jobs[0].priority, jobs[0].max_attempts), (7, 9));
}
