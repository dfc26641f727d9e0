//! Several schedulers with the same schedules against one queue: one job per tick.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use common::{at, secs, settle, t0, FakeQueue};
use queue_core::Queue;
use queue_scheduler::{ManualClock, Scheduler};

fn replica(clock: &ManualClock, queue: &Arc<FakeQueue>, catch_up: u32) -> Scheduler {
    let s = Scheduler::with_clock(vec![queue.clone() as Arc<dyn Queue>], clock.clone());
    s.every(secs(60))
        .job("minutely", serde_json::json!({"scope": "all"}))
        .catch_up(catch_up)
        .register()
        .unwrap();
    s.cron("*/5 * * * *")
        .job("five", serde_json::json!({"scope": "all"}))
        .catch_up(catch_up)
        .register()
        .unwrap();
    s
}

#[tokio::test]
async fn three_schedulers_enqueue_each_tick_once() {
    let clock = ManualClock::new(t0());
    let queue = FakeQueue::new(&clock);
    let replicas: Vec<Scheduler> = (0..3).map(|_| replica(&clock, &queue, 0)).collect();
    // Same definitions, same derived ids.
    assert_eq!(replicas[0].schedules(), replicas[1].schedules());
    let handles: Vec<_> = replicas.iter().map(|r| r.start().unwrap()).collect();

    for _ in 0..10 {
        clock.advance(secs(60));
        for r in &replicas {
            settle(r, &clock).await;
        }
    }
    let minutes: Vec<_> = (1..=10).map(|m| at(t0(), 60 * m)).collect();
    assert_eq!(queue.ticks_of("minutely"), minutes);
    assert_eq!(queue.ticks_of("five"), [at(t0(), 300), at(t0(), 600)]);
    // Every replica did try every tick; the unique key made the extra tries no-ops.
    assert_eq!(queue.attempts("minutely"), 30);
    assert_eq!(queue.attempts("five"), 6);

    for h in handles {
        h.stop().await;
    }
}

#[tokio::test]
async fn a_lagging_replica_catching_up_does_not_duplicate() {
    let clock = ManualClock::new(t0());
    let queue = FakeQueue::new(&clock);
    let live: Vec<Scheduler> = (0..2).map(|_| replica(&clock, &queue, 3)).collect();
    // Registered at the same time but stalled (not running) for a while.
    let late = replica(&clock, &queue, 3);
    let mut handles: Vec<_> = live.iter().map(|r| r.start().unwrap()).collect();

    for _ in 0..5 {
        clock.advance(secs(60));
        for r in &live {
            settle(r, &clock).await;
        }
    }
    assert_eq!(queue.ticks_of("minutely").len(), 5);

    // The late one wakes at t0+330 and catches up its 3 newest missed ticks (180, 240,
    // 300) and the cron tick 300: all already enqueued by the others.
    clock.advance(secs(30));
    handles.push(late.start().unwrap());
    settle(&late, &clock).await;
    assert_eq!(queue.attempts("minutely"), 2 * 5 + 3);
    let minutes: Vec<_> = (1..=5).map(|m| at(t0(), 60 * m)).collect();
    assert_eq!(queue.ticks_of("minutely"), minutes);
    assert_eq!(queue.ticks_of("five"), [at(t0(), 300)]);
    // It reports those ticks as enqueued: the queue answered with the existing jobs.
    let info = late
        .schedules()
        .into_iter()
        .find(|s| s.kind == "minutely")
        .unwrap();
    assert_eq!(info.last_enqueued, Some(at(t0(), 300)));

    for h in handles {
        h.stop().await;
    }
}
