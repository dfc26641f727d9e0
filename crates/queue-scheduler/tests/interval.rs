//! Interval schedules: alignment, no drift, missed ticks, catch-up, the fired job.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use common::{advance, at, only, secs, settle, t0, FakeQueue};
use queue_core::Queue;
use queue_scheduler::{Cadence, ManualClock, Scheduler, UNIQUE_GRACE};

fn setup() -> (ManualClock, Arc<FakeQueue>, Scheduler) {
    let clock = ManualClock::new(t0());
    let queue = FakeQueue::new(&clock);
    let scheduler = Scheduler::with_clock(vec![queue.clone() as Arc<dyn Queue>], clock.clone());
    (clock, queue, scheduler)
}

#[tokio::test]
async fn every_90s_fires_at_90_180_270() {
    let (clock, queue, scheduler) = setup();
    let id = scheduler
        .every(secs(90))
        .job("tick", serde_json::json!({"n": 1}))
        .register()
        .unwrap();
    assert_eq!(only(&scheduler).next_run, Some(at(t0(), 90)));
    let handle = scheduler.start().unwrap();

    // Short of the tick: nothing.
    advance(&scheduler, &clock, secs(89)).await;
    assert!(queue.jobs().is_empty());

    advance(&scheduler, &clock, secs(1)).await;
    assert_eq!(queue.ticks_of("tick"), [at(t0(), 90)]);
    advance(&scheduler, &clock, secs(90)).await;
    advance(&scheduler, &clock, secs(90)).await;
    assert_eq!(
        queue.ticks_of("tick"),
        [at(t0(), 90), at(t0(), 180), at(t0(), 270)]
    );

    let info = only(&scheduler);
    assert_eq!(info.id, id);
    assert_eq!(info.next_run, Some(at(t0(), 360)));
    assert_eq!(info.last_enqueued, Some(at(t0(), 270)));
    assert_eq!(info.cadence, Cadence::Every(secs(90)));
    handle.stop().await;
}

#[tokio::test]
async fn late_wake_does_not_drift_the_grid() {
    let (clock, queue, scheduler) = setup();
    scheduler
        .every(secs(90))
        .job("tick", ())
        .register()
        .unwrap();
    let handle = scheduler.start().unwrap();

    // The loop only gets to run 10 s after the tick (a stall, a slow host).
    advance(&scheduler, &clock, secs(100)).await;
    assert_eq!(queue.ticks_of("tick"), [at(t0(), 90)]);
    // The next tick stays on the grid: 180, not 100 + 90.
    assert_eq!(only(&scheduler).next_run, Some(at(t0(), 180)));
    advance(&scheduler, &clock, secs(80)).await;
    assert_eq!(queue.ticks_of("tick"), [at(t0(), 90), at(t0(), 180)]);
    // Fired late, the job still runs at its tick, and enqueue time shows the lateness.
    let jobs = queue.jobs();
    assert_eq!(jobs[0].enqueued_at, at(t0(), 100));
    assert_eq!(jobs[0].run_at(), at(t0(), 90));
    handle.stop().await;
}

#[tokio::test]
async fn ticks_are_aligned_to_the_epoch_not_to_registration() {
    let (clock, queue, scheduler) = setup();
    clock.advance(secs(17));
    scheduler
        .every(secs(90))
        .job("tick", ())
        .register()
        .unwrap();
    // Registered at t0+17: the first tick is the grid point t0+90, as on every replica.
    assert_eq!(only(&scheduler).next_run, Some(at(t0(), 90)));
    let handle = scheduler.start().unwrap();
    advance(&scheduler, &clock, secs(73)).await;
    assert_eq!(queue.ticks_of("tick"), [at(t0(), 90)]);
    handle.stop().await;
}

#[tokio::test]
async fn missed_ticks_collapse_into_one_run() {
    let (clock, queue, scheduler) = setup();
    scheduler
        .every(secs(90))
        .job("tick", ())
        .register()
        .unwrap();
    let handle = scheduler.start().unwrap();
    // Ten intervals pass at once: one job, for the newest tick.
    advance(&scheduler, &clock, secs(900)).await;
    assert_eq!(queue.ticks_of("tick"), [at(t0(), 900)]);
    assert_eq!(only(&scheduler).next_run, Some(at(t0(), 990)));
    // And the schedule carries on normally.
    advance(&scheduler, &clock, secs(90)).await;
    assert_eq!(queue.ticks_of("tick"), [at(t0(), 900), at(t0(), 990)]);
    handle.stop().await;
}

#[tokio::test]
async fn catch_up_enqueues_the_newest_n_missed_ticks_oldest_first() {
    let (clock, queue, scheduler) = setup();
    scheduler
        .every(secs(90))
        .job("tick", ())
        .catch_up(3)
        .register()
        .unwrap();
    let handle = scheduler.start().unwrap();
    advance(&scheduler, &clock, secs(900)).await;
    assert_eq!(
        queue.ticks_of("tick"),
        [at(t0(), 720), at(t0(), 810), at(t0(), 900)]
    );
    // Fewer missed than allowed: all of them.
    advance(&scheduler, &clock, secs(180)).await;
    assert_eq!(queue.ticks_of("tick")[3..], [at(t0(), 990), at(t0(), 1080)]);
    handle.stop().await;
}

#[tokio::test]
async fn ticks_before_start_count_as_missed() {
    let (clock, queue, scheduler) = setup();
    scheduler
        .every(secs(60))
        .job("tick", ())
        .register()
        .unwrap();
    clock.advance(secs(200)); // not running yet: ticks 60, 120, 180 pass
    let handle = scheduler.start().unwrap();
    settle(&scheduler, &clock).await;
    assert_eq!(queue.ticks_of("tick"), [at(t0(), 180)]);
    handle.stop().await;
}

#[tokio::test]
async fn fired_job_carries_options_unique_key_and_run_at() {
    let (clock, queue, scheduler) = setup();
    let id = scheduler
        .every(secs(60))
        .job("report", serde_json::json!({"to": "ops"}))
        .priority(7)
        .max_attempts(9)
        .register()
        .unwrap();
    let id3 = scheduler
        .every(secs(60))
        .job("report3", ())
        .catch_up(3)
        .register()
        .unwrap();
    let handle = scheduler.start().unwrap();
    advance(&scheduler, &clock, secs(60)).await;

    let job = queue.jobs_of("report").remove(0).job;
    assert_eq!(job.payload, serde_json::json!({"to": "ops"}));
    assert_eq!(job.priority, 7);
    assert_eq!(job.max_attempts, 9);
    let unique = job.unique.unwrap();
    assert_eq!(
        unique.key,
        format!("sched:{id}:{}", at(t0(), 60).timestamp_millis())
    );
    // Held until the next tick (the last moment a replica may still try this one), plus grace.
    assert_eq!(unique.window, Some(secs(60) + UNIQUE_GRACE));

    // With catch_up(3) a replica may still try a tick until 3 ticks later.
    let unique3 = queue.jobs_of("report3").remove(0).job.unique.unwrap();
    assert!(unique3.key.starts_with(&format!("sched:{id3}:")));
    assert_eq!(unique3.window, Some(secs(180) + UNIQUE_GRACE));
    handle.stop().await;
}

#[tokio::test]
async fn sub_second_intervals_work() {
    let (clock, queue, scheduler) = setup();
    scheduler
        .every(std::time::Duration::from_millis(250))
        .job("fast", ())
        .register()
        .unwrap();
    let handle = scheduler.start().unwrap();
    for _ in 0..4 {
        advance(&scheduler, &clock, std::time::Duration::from_millis(250)).await;
    }
    let ticks: Vec<i64> = queue
        .ticks_of("fast")
        .iter()
        .map(|t| (*t - t0()).num_milliseconds())
        .collect();
    assert_eq!(ticks, [250, 500, 750, 1000]);
    handle.stop().await;
}
