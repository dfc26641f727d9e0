//! Enqueue failures: retried with backoff within the tick, logged, never blocking others.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use common::{at, secs, t0, wait_until, Failure, FakeQueue};
use queue_core::Queue;
use queue_scheduler::{ManualClock, Scheduler};

fn setup() -> (ManualClock, Arc<FakeQueue>, Scheduler) {
    let clock = ManualClock::new(t0());
    let queue = FakeQueue::new(&clock);
    let scheduler = Scheduler::with_clock(vec![queue.clone() as Arc<dyn Queue>], clock.clone());
    scheduler
        .every(secs(60))
        .job("flaky", ())
        .register()
        .unwrap();
    scheduler
        .every(secs(60))
        .job("steady", ())
        .register()
        .unwrap();
    (clock, queue, scheduler)
}

fn pending(s: &Scheduler, kind: &str) -> usize {
    s.schedules()
        .into_iter()
        .find(|i| i.kind == kind)
        .unwrap()
        .pending
}

/// Waits until `kind` has had `n` enqueue attempts and the scheduler is idle again (its
/// loop and the retry asleep on the clock, `sleepers` in all).
async fn attempts(queue: &FakeQueue, clock: &ManualClock, kind: &str, n: usize, sleepers: usize) {
    wait_until(&format!("{kind} has {n} attempts"), || {
        queue.attempts(kind) == n && clock.sleepers() == sleepers
    })
    .await;
}

#[tokio::test]
async fn failed_enqueue_is_retried_with_backoff_and_others_are_not_blocked() {
    let (clock, queue, scheduler) = setup();
    queue.fail_next("flaky", 3);
    let handle = scheduler.start().unwrap();

    clock.advance(secs(60));
    attempts(&queue, &clock, "flaky", 1, 2).await;
    // The other schedule went through while "flaky" waits to retry.
    wait_until("steady enqueued", || {
        queue.ticks_of("steady") == [at(t0(), 60)]
    })
    .await;
    assert!(queue.jobs_of("flaky").is_empty());
    assert_eq!(pending(&scheduler, "flaky"), 1);

    // Backoff 1 s, 2 s, 4 s on the scheduler's clock.
    clock.advance(secs(1));
    attempts(&queue, &clock, "flaky", 2, 2).await;
    clock.advance(secs(1));
    // Not yet: the second wait is 2 s.
    attempts(&queue, &clock, "flaky", 2, 2).await;
    clock.advance(secs(1));
    attempts(&queue, &clock, "flaky", 3, 2).await;
    clock.advance(secs(4));
    wait_until("flaky enqueued", || pending(&scheduler, "flaky") == 0).await;
    assert_eq!(queue.attempts("flaky"), 4);
    let jobs = queue.jobs_of("flaky");
    assert_eq!(jobs.len(), 1);
    // Enqueued late, it still runs at its tick.
    assert_eq!(jobs[0].run_at(), at(t0(), 60));
    assert_eq!(jobs[0].enqueued_at, at(t0(), 67));
    handle.stop().await;
}

#[tokio::test]
async fn a_stalled_enqueue_does_not_hold_up_other_schedules() {
    let (clock, queue, scheduler) = setup();
    queue.hold("flaky");
    let handle = scheduler.start().unwrap();
    clock.advance(secs(60));
    wait_until("steady enqueued", || queue.ticks_of("steady").len() == 1).await;
    // The loop too keeps going: the next tick of "steady" fires while "flaky" hangs.
    clock.advance(secs(60));
    wait_until("steady enqueued twice", || {
        queue.ticks_of("steady").len() == 2
    })
    .await;
    assert!(queue.jobs_of("flaky").is_empty());
    queue.release();
    wait_until("flaky enqueued", || queue.ticks_of("flaky").len() == 2).await;
    // The two held fires were independent tasks, so they may finish in either order.
    let mut ticks = queue.ticks_of("flaky");
    ticks.sort();
    assert_eq!(ticks, [at(t0(), 60), at(t0(), 120)]);
    handle.stop().await;
}

#[tokio::test]
async fn retries_give_up_at_the_next_tick_which_is_tried_afresh() {
    let (clock, queue, scheduler) = setup();
    queue.fail_always("flaky", Failure::Transient);
    let handle = scheduler.start().unwrap();

    clock.advance(secs(60)); // tick T = t0+60
    attempts(&queue, &clock, "flaky", 1, 2).await;
    // Retries at T+1, T+3, T+7, T+15, T+31; the next wait (30 s) would pass the next
    // tick (T+60), so the tick is given up (and logged) after the attempt at T+31.
    for (step, n) in [(1, 2), (2, 3), (4, 4), (8, 5)] {
        clock.advance(secs(step));
        attempts(&queue, &clock, "flaky", n, 2).await;
    }
    clock.advance(secs(16));
    attempts(&queue, &clock, "flaky", 6, 1).await;
    assert_eq!(pending(&scheduler, "flaky"), 0);
    let info = scheduler
        .schedules()
        .into_iter()
        .find(|i| i.kind == "flaky")
        .unwrap();
    assert_eq!(info.last_enqueued, None);

    // The queue recovers; the next tick goes through.
    queue.recover("flaky");
    clock.advance(secs(29));
    wait_until("next tick enqueued", || {
        pending(&scheduler, "flaky") == 0 && queue.attempts("flaky") == 7
    })
    .await;
    assert_eq!(queue.ticks_of("flaky"), [at(t0(), 120)]);
    handle.stop().await;
}

#[tokio::test]
async fn permanent_errors_are_not_retried() {
    let (clock, queue, scheduler) = setup();
    queue.fail_always("flaky", Failure::Closed);
    let handle = scheduler.start().unwrap();
    clock.advance(secs(60));
    wait_until("flaky given up", || {
        queue.attempts("flaky") == 1 && pending(&scheduler, "flaky") == 0
    })
    .await;
    assert_eq!(queue.ticks_of("steady").len(), 1);
    handle.stop().await;
    assert_eq!(queue.attempts("flaky"), 1);
}

#[tokio::test]
async fn stop_cuts_retry_backoff_short() {
    let (clock, queue, scheduler) = setup();
    queue.fail_always("flaky", Failure::Transient);
    let handle = scheduler.start().unwrap();
    clock.advance(secs(60));
    attempts(&queue, &clock, "flaky", 1, 2).await;
    // The manual clock never moves again: stop must not wait for the backoff.
    handle.stop().await;
    assert!(!scheduler.is_running());
    // One last attempt was made on the way out.
    assert_eq!(queue.attempts("flaky"), 2);
    assert_eq!(clock.sleepers(), 0);
}
