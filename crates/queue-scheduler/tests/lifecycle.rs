//! Start, stop, late registration, removal, inspection and queue targeting.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use common::{advance, at, only, secs, settle, t0, wait_until, FakeQueue};
use queue_core::Queue;
use queue_scheduler::{Cadence, ManualClock, Scheduler};

fn setup() -> (ManualClock, Arc<FakeQueue>, Scheduler) {
    let clock = ManualClock::new(t0());
    let queue = FakeQueue::new(&clock);
    let scheduler = Scheduler::with_clock(vec![queue.clone() as Arc<dyn Queue>], clock.clone());
    (clock, queue, scheduler)
}

#[tokio::test]
async fn stop_ends_the_loop() {
    let (clock, queue, scheduler) = setup();
    scheduler
        .every(secs(60))
        .job("tick", ())
        .register()
        .unwrap();
    let handle = scheduler.start().unwrap();
    assert!(scheduler.is_running());
    advance(&scheduler, &clock, secs(60)).await;
    assert_eq!(queue.jobs().len(), 1);

    handle.stop().await;
    assert!(!scheduler.is_running());
    // Nothing waits on the clock any more, and time passing fires nothing.
    assert_eq!(clock.sleepers(), 0);
    clock.advance(secs(600));
    tokio::task::yield_now().await;
    assert_eq!(queue.jobs().len(), 1);
    assert_eq!(only(&scheduler).next_run, Some(at(t0(), 120)));
}

#[tokio::test]
async fn dropping_the_handle_stops_the_loop() {
    let (_clock, _queue, scheduler) = setup();
    let handle = scheduler.start().unwrap();
    drop(handle);
    wait_until("the loop ends", || !scheduler.is_running()).await;
}

#[tokio::test]
async fn registering_while_running_wakes_the_loop() {
    let (clock, queue, scheduler) = setup();
    // Nothing registered: the loop waits for a registration, not on the clock.
    let handle = scheduler.start().unwrap();
    scheduler
        .every(secs(3600))
        .job("hourly", ())
        .register()
        .unwrap();
    settle(&scheduler, &clock).await;
    wait_until("loop asleep until the hour", || clock.sleepers() == 1).await;

    // A sooner schedule registered while the loop sleeps until +1 h: it must re-arm.
    clock.advance(secs(30));
    scheduler
        .every(secs(60))
        .job("minutely", ())
        .register()
        .unwrap();
    advance(&scheduler, &clock, secs(30)).await;
    assert_eq!(queue.ticks_of("minutely"), [at(t0(), 60)]);
    assert!(queue.jobs_of("hourly").is_empty());
    handle.stop().await;
}

#[tokio::test]
async fn removed_schedules_stop_firing() {
    let (clock, queue, scheduler) = setup();
    let id = scheduler
        .every(secs(60))
        .job("tick", ())
        .register()
        .unwrap();
    scheduler
        .every(secs(60))
        .job("other", ())
        .register()
        .unwrap();
    let handle = scheduler.start().unwrap();
    advance(&scheduler, &clock, secs(60)).await;
    assert!(scheduler.remove(&id));
    assert!(!scheduler.remove(&id));
    advance(&scheduler, &clock, secs(60)).await;
    assert_eq!(queue.ticks_of("tick"), [at(t0(), 60)]);
    assert_eq!(queue.ticks_of("other").len(), 2);
    // The id is free again.
    scheduler
        .every(secs(60))
        .job("tick", ())
        .register()
        .unwrap();
    handle.stop().await;
}

#[tokio::test]
async fn schedules_lists_id_kind_cadence_and_next_run() {
    let (_clock, _queue, scheduler) = setup();
    scheduler
        .every(secs(90))
        .job("b.interval", ())
        .id("b")
        .register()
        .unwrap();
    scheduler
        .cron("@hourly")
        .time_zone(chrono_tz::Europe::Paris)
        .job("a.cron", ())
        .id("a")
        .register()
        .unwrap();
    let all = scheduler.schedules();
    assert_eq!(all.len(), 2);
    // Ordered by id.
    assert_eq!(all[0].id.as_str(), "a");
    assert_eq!(all[0].kind, "a.cron");
    assert_eq!(
        all[0].cadence,
        Cadence::Cron {
            spec: "0 * * * *".into(),
            time_zone: chrono_tz::Europe::Paris
        }
    );
    assert_eq!(all[0].next_run, Some(at(t0(), 3600)));
    assert_eq!(all[1].id.as_str(), "b");
    assert_eq!(all[1].cadence, Cadence::Every(secs(90)));
    assert_eq!(all[1].next_run, Some(at(t0(), 90)));
    assert_eq!(all[1].pending, 0);
    assert_eq!(all[1].last_enqueued, None);
    assert_eq!(scheduler.schedule(&all[1].id), Some(all[1].clone()));
    assert_eq!(
        all[0].cadence.to_string(),
        "cron \"0 * * * *\" in Europe/Paris"
    );
}

#[tokio::test]
async fn each_schedule_targets_one_queue() {
    let clock = ManualClock::new(t0());
    let first = FakeQueue::new(&clock);
    let second = FakeQueue::new(&clock);
    let scheduler = Scheduler::with_clock(
        vec![
            first.clone() as Arc<dyn Queue>,
            second.clone() as Arc<dyn Queue>,
        ],
        clock.clone(),
    );
    scheduler
        .every(secs(60))
        .job("default", ())
        .register()
        .unwrap();
    scheduler
        .every(secs(60))
        .job("picked", ())
        .on_queue(1)
        .register()
        .unwrap();
    let handle = scheduler.start().unwrap();
    advance(&scheduler, &clock, secs(60)).await;
    assert_eq!(first.jobs().len(), 1);
    assert_eq!(first.jobs()[0].job.kind, "default");
    assert_eq!(second.jobs().len(), 1);
    assert_eq!(second.jobs()[0].job.kind, "picked");
    handle.stop().await;
}
