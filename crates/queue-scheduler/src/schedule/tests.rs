//! Tick arithmetic and default ids.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::{default_id, to_offset, Cadence, Timing};
use crate::cron::CronSpec;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn every(secs: i64) -> Timing {
    Timing::Every {
        step_ms: secs * 1000,
    }
}

fn cron(spec: &str) -> Timing {
    Timing::Cron {
        spec: Box::new(CronSpec::parse(spec).unwrap()),
        tz: Tz::UTC,
    }
}

#[test]
fn interval_ticks_are_aligned_to_the_epoch() {
    let t = every(90);
    // 2024-01-01T00:00:00Z is a multiple of 90 s since the epoch.
    assert_eq!(
        t.next_after(utc("2024-01-01T00:00:00Z")),
        Some(utc("2024-01-01T00:01:30Z"))
    );
    assert_eq!(
        t.next_after(utc("2024-01-01T00:00:17.5Z")),
        Some(utc("2024-01-01T00:01:30Z"))
    );
    assert_eq!(
        t.next_after(utc("2024-01-01T00:01:29.999Z")),
        Some(utc("2024-01-01T00:01:30Z"))
    );
    assert_eq!(
        t.next_after(utc("2024-01-01T00:01:30Z")),
        Some(utc("2024-01-01T00:03:00Z"))
    );
    // Before 1970 too.
    assert_eq!(
        every(60).next_after(utc("1969-12-31T23:59:30Z")),
        Some(utc("1970-01-01T00:00:00Z"))
    );
}

#[test]
fn interval_due_ticks_keep_the_newest() {
    let t = every(90);
    let first = utc("2024-01-01T00:01:30Z");
    let now = utc("2024-01-01T00:15:10Z"); // ticks 90..=900 s are due: 10 of them
    assert_eq!(t.due_ticks(first, now, 1), [utc("2024-01-01T00:15:00Z")]);
    assert_eq!(
        t.due_ticks(first, now, 3),
        [
            utc("2024-01-01T00:12:00Z"),
            utc("2024-01-01T00:13:30Z"),
            utc("2024-01-01T00:15:00Z")
        ]
    );
    assert_eq!(t.due_ticks(first, now, 100).len(), 10);
    assert!(t.due_ticks(now, first, 1).is_empty());
    assert_eq!(t.due_ticks(first, first, 5), [first]);
}

#[test]
fn cron_due_ticks_are_bounded_after_a_long_outage() {
    // Every second, a 30-day outage: 2.6 million missed ticks; only the newest 3 are
    // computed, quickly.
    let t = cron("* * * * * *");
    let first = utc("2024-01-01T00:00:01Z");
    let now = utc("2024-01-31T00:00:00.5Z");
    let started = Instant::now();
    let ticks = t.due_ticks(first, now, 3);
    assert_eq!(
        ticks,
        [
            utc("2024-01-30T23:59:58Z"),
            utc("2024-01-30T23:59:59Z"),
            utc("2024-01-31T00:00:00Z")
        ]
    );
    // Generous bound (debug build, shared CI machine); the naive walk takes seconds.
    assert!(started.elapsed() < Duration::from_secs(2));

    // A monthly spec over ten years: the newest tick, found by widening the look-back.
    let t = cron("0 0 1 * *");
    let ticks = t.due_ticks(utc("2014-02-01T00:00:00Z"), utc("2024-01-15T00:00:00Z"), 2);
    assert_eq!(
        ticks,
        [utc("2023-12-01T00:00:00Z"), utc("2024-01-01T00:00:00Z")]
    );
    // Fewer due than asked for: all of them, from the first unfired one.
    let ticks = t.due_ticks(utc("2023-12-01T00:00:00Z"), utc("2024-01-15T00:00:00Z"), 5);
    assert_eq!(
        ticks,
        [utc("2023-12-01T00:00:00Z"), utc("2024-01-01T00:00:00Z")]
    );
}

#[test]
fn extend_appends_following_ticks() {
    let t = every(60);
    let ticks = [utc("2024-01-01T00:01:00Z")];
    assert_eq!(
        t.extend(&ticks, 2),
        [
            utc("2024-01-01T00:01:00Z"),
            utc("2024-01-01T00:02:00Z"),
            utc("2024-01-01T00:03:00Z")
        ]
    );
}

#[test]
fn default_ids_are_deterministic_and_distinguish_definitions() {
    let payload = serde_json::json!({"b": 1, "a": [1, 2]});
    let daily = Cadence::Cron {
        spec: "0 0 * * *".into(),
        time_zone: Tz::UTC,
    };
    let id = default_id("report", &daily, &payload, 0);
    assert_eq!(id, default_id("report", &daily, &payload.clone(), 0));
    // Pinned: the id must not change between builds, or replicas on different versions
    // would enqueue the same tick twice.
    assert_eq!(id.as_str(), "report@8aa265817dcdc18d");
    assert!(id.as_str().starts_with("report@"));
    let other = [
        default_id("report2", &daily, &payload, 0),
        default_id(
            "report",
            &Cadence::Every(Duration::from_secs(86_400)),
            &payload,
            0,
        ),
        default_id(
            "report",
            &Cadence::Cron {
                spec: "0 0 * * *".into(),
                time_zone: chrono_tz::Europe::Paris,
            },
            &payload,
            0,
        ),
        default_id("report", &daily, &serde_json::json!({"b": 2}), 0),
        default_id("report", &daily, &payload, 1),
    ];
    for o in other {
        assert_ne!(o, id);
    }
}

#[test]
fn chrono_to_time_conversion_keeps_the_instant() {
    let t = utc("2024-03-10T07:00:00.123Z");
    let o = to_offset(t).unwrap();
    assert_eq!(o.unix_timestamp(), t.timestamp());
    assert_eq!(o.millisecond(), 123);
}
