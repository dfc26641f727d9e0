//! Cron schedules fired end to end with a manual clock, across DST transitions.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use common::{only, settle, FakeQueue};
use queue_core::Queue;
use queue_scheduler::{Cadence, ManualClock, Scheduler, Tz};

const NY: Tz = chrono_tz::America::New_York;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// Starts a scheduler at `start` with one cron schedule of kind "job", jumps the clock from
/// tick to tick `n` times and returns the run_at of every fired job.
async fn fire_n(spec: &str, tz: Tz, start: &str, n: usize) -> Vec<String> {
    let clock = ManualClock::new(utc(start));
    let queue = FakeQueue::new(&clock);
    let scheduler = Scheduler::with_clock(vec![queue.clone() as Arc<dyn Queue>], clock.clone());
    scheduler
        .cron(spec)
        .time_zone(tz)
        .job("job", ())
        .register()
        .unwrap();
    let handle = scheduler.start().unwrap();
    for _ in 0..n {
        let next = only(&scheduler).next_run.unwrap();
        clock.set(next);
        settle(&scheduler, &clock).await;
    }
    handle.stop().await;
    queue
        .ticks_of("job")
        .iter()
        .map(|t| t.to_rfc3339())
        .collect()
}

#[tokio::test]
async fn daily_0230_new_york_across_spring_forward() {
    assert_eq!(
        fire_n("30 2 * * *", NY, "2024-03-08T12:00:00Z", 4).await,
        [
            "2024-03-09T07:30:00+00:00", // 02:30 EST
            "2024-03-10T07:00:00+00:00", // 02:30 does not exist: once, at 03:00 EDT
            "2024-03-11T06:30:00+00:00", // 02:30 EDT
            "2024-03-12T06:30:00+00:00",
        ]
    );
}

#[tokio::test]
async fn daily_0130_new_york_across_fall_back_fires_once() {
    assert_eq!(
        fire_n("30 1 * * *", NY, "2024-11-01T12:00:00Z", 3).await,
        [
            "2024-11-02T05:30:00+00:00", // 01:30 EDT
            "2024-11-03T05:30:00+00:00", // 01:30 EDT; the repeated 01:30 EST is skipped
            "2024-11-04T06:30:00+00:00", // 01:30 EST
        ]
    );
    // A 02:30 job is not in the overlap: once a day either side.
    assert_eq!(
        fire_n("30 2 * * *", NY, "2024-11-02T12:00:00Z", 2).await,
        ["2024-11-03T07:30:00+00:00", "2024-11-04T07:30:00+00:00"]
    );
}

#[tokio::test]
async fn hourly_new_york_across_both_transitions() {
    assert_eq!(
        fire_n("@hourly", NY, "2024-03-10T05:30:00Z", 3).await,
        [
            "2024-03-10T06:00:00+00:00",
            "2024-03-10T07:00:00+00:00",
            "2024-03-10T08:00:00+00:00"
        ]
    );
    assert_eq!(
        fire_n("0 * * * *", NY, "2024-11-03T04:30:00Z", 3).await,
        [
            "2024-11-03T05:00:00+00:00", // 01:00 EDT
            "2024-11-03T06:00:00+00:00", // 01:00 EST, a real hour later
            "2024-11-03T07:00:00+00:00", // 02:00 EST
        ]
    );
}

#[tokio::test]
async fn daily_shortcut_and_seconds_field() {
    assert_eq!(
        fire_n("@daily", Tz::UTC, "2024-01-01T10:00:00Z", 2).await,
        ["2024-01-02T00:00:00+00:00", "2024-01-03T00:00:00+00:00"]
    );
    assert_eq!(
        fire_n("*/20 * * * * *", Tz::UTC, "2024-01-01T10:00:05Z", 3).await,
        [
            "2024-01-01T10:00:20+00:00",
            "2024-01-01T10:00:40+00:00",
            "2024-01-01T10:01:00+00:00"
        ]
    );
}

#[tokio::test]
async fn cron_defaults_to_utc_and_reports_its_cadence() {
    let clock = ManualClock::new(utc("2024-01-01T10:00:00Z"));
    let queue = FakeQueue::new(&clock);
    let scheduler = Scheduler::with_clock(vec![queue as Arc<dyn Queue>], clock);
    scheduler
        .cron("0 9 * * *")
        .job("job", ())
        .register()
        .unwrap();
    let info = only(&scheduler);
    assert_eq!(info.next_run, Some(utc("2024-01-02T09:00:00Z")));
    assert_eq!(
        info.cadence,
        Cadence::Cron {
            spec: "0 9 * * *".into(),
            time_zone: Tz::UTC
        }
    );
    assert_eq!(info.kind, "job");
}

#[tokio::test]
async fn cron_missed_ticks_collapse_or_catch_up() {
    let clock = ManualClock::new(utc("2024-01-01T00:00:30Z"));
    let queue = FakeQueue::new(&clock);
    let scheduler = Scheduler::with_clock(vec![queue.clone() as Arc<dyn Queue>], clock.clone());
    scheduler
        .cron("* * * * *")
        .job("one", ())
        .register()
        .unwrap();
    scheduler
        .cron("* * * * *")
        .job("three", ())
        .catch_up(3)
        .register()
        .unwrap();
    let handle = scheduler.start().unwrap();
    clock.set(utc("2024-01-01T02:00:10Z")); // 120 minutes missed
    settle(&scheduler, &clock).await;
    assert_eq!(queue.ticks_of("one"), [utc("2024-01-01T02:00:00Z")]);
    assert_eq!(
        queue.ticks_of("three"),
        [
            utc("2024-01-01T01:58:00Z"),
            utc("2024-01-01T01:59:00Z"),
            utc("2024-01-01T02:00:00Z")
        ]
    );
    handle.stop().await;
}
