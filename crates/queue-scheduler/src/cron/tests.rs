//! Next-fire computation, parsing and daylight-saving rules.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use super::CronSpec;
use crate::ScheduleError;

const NY: Tz = chrono_tz::America::New_York;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// The first `n` fire instants after `from`, in UTC RFC 3339.
fn fires(spec: &str, tz: Tz, from: &str, n: usize) -> Vec<String> {
    let spec = CronSpec::parse(spec).unwrap();
    let mut t = utc(from);
    (0..n)
        .map(|_| {
            t = spec.next_after(t, &tz).unwrap();
            t.to_rfc3339()
        })
        .collect()
}

#[test]
fn common_specs_in_utc() {
    let from = "2024-01-01T00:00:00Z"; // a Monday
    assert_eq!(
        fires("*/15 * * * *", Tz::UTC, from, 3),
        [
            "2024-01-01T00:15:00+00:00",
            "2024-01-01T00:30:00+00:00",
            "2024-01-01T00:45:00+00:00"
        ]
    );
    assert_eq!(
        fires("0 9 * * 1-5", Tz::UTC, "2024-01-05T10:00:00Z", 2), // Friday after 9
        ["2024-01-08T09:00:00+00:00", "2024-01-09T09:00:00+00:00"]
    );
    assert_eq!(
        fires("0 0 1 * *", Tz::UTC, from, 2),
        ["2024-02-01T00:00:00+00:00", "2024-03-01T00:00:00+00:00"]
    );
    assert_eq!(
        fires("0 0 29 2 *", Tz::UTC, from, 2),
        ["2024-02-29T00:00:00+00:00", "2028-02-29T00:00:00+00:00"]
    );
    // Strictly after: a start that matches is not returned again.
    assert_eq!(
        fires("0 0 * * *", Tz::UTC, from, 1),
        ["2024-01-02T00:00:00+00:00"]
    );
    // Sub-second starts are handled.
    assert_eq!(
        fires("* * * * *", Tz::UTC, "2024-01-01T00:00:59.900Z", 1),
        ["2024-01-01T00:01:00+00:00"]
    );
}

#[test]
fn shortcuts() {
    let from = "2024-01-03T12:00:00Z"; // a Wednesday
    let one = |s| fires(s, Tz::UTC, from, 1).remove(0);
    assert_eq!(one("@hourly"), "2024-01-03T13:00:00+00:00");
    assert_eq!(one("@daily"), "2024-01-04T00:00:00+00:00");
    assert_eq!(one("@midnight"), "2024-01-04T00:00:00+00:00");
    assert_eq!(one("@weekly"), "2024-01-07T00:00:00+00:00"); // Sunday
    assert_eq!(one("@monthly"), "2024-02-01T00:00:00+00:00");
    assert_eq!(one("@yearly"), "2025-01-01T00:00:00+00:00");
    assert_eq!(one("@annually"), "2025-01-01T00:00:00+00:00");
    assert_eq!(one("  @DAILY "), "2024-01-04T00:00:00+00:00");
    assert_eq!(CronSpec::parse("@daily").unwrap().text(), "0 0 * * *");
}

#[test]
fn six_fields_have_seconds_first() {
    assert_eq!(
        fires("*/10 * * * * *", Tz::UTC, "2024-01-01T00:00:00Z", 3),
        [
            "2024-01-01T00:00:10+00:00",
            "2024-01-01T00:00:20+00:00",
            "2024-01-01T00:00:30+00:00"
        ]
    );
    assert_eq!(
        fires("30 15 2 * * *", Tz::UTC, "2024-01-01T00:00:00Z", 2),
        ["2024-01-01T02:15:30+00:00", "2024-01-02T02:15:30+00:00"]
    );
}

#[test]
fn zone_is_respected() {
    // 09:00 in New York is 14:00 UTC in winter and 13:00 UTC in summer.
    assert_eq!(
        fires("0 9 * * *", NY, "2024-01-01T00:00:00Z", 1),
        ["2024-01-01T14:00:00+00:00"]
    );
    assert_eq!(
        fires("0 9 * * *", NY, "2024-07-01T00:00:00Z", 1),
        ["2024-07-01T13:00:00+00:00"]
    );
}

#[test]
fn spring_forward_daily_in_the_gap_fires_once_at_the_gap_end() {
    // 2024-03-10: 02:00 EST jumps to 03:00 EDT; 02:30 does not exist.
    assert_eq!(
        fires("30 2 * * *", NY, "2024-03-09T00:00:00Z", 3),
        [
            "2024-03-09T07:30:00+00:00", // 02:30 EST
            "2024-03-10T07:00:00+00:00", // 03:00 EDT, the first instant after the gap
            "2024-03-11T06:30:00+00:00", // 02:30 EDT
        ]
    );
    // Same for a whole-hour time inside the gap, and a 6-field one.
    assert_eq!(
        fires("0 2 * * *", NY, "2024-03-10T00:00:00Z", 1),
        ["2024-03-10T07:00:00+00:00"]
    );
    assert_eq!(
        fires("10 30 2 * * *", NY, "2024-03-10T00:00:00Z", 1),
        ["2024-03-10T07:00:00+00:00"]
    );
    // Looking from just before the gap and from after the shifted fire.
    assert_eq!(
        fires("30 2 * * *", NY, "2024-03-10T06:59:59Z", 1),
        ["2024-03-10T07:00:00+00:00"]
    );
    assert_eq!(
        fires("30 2 * * *", NY, "2024-03-10T07:00:00Z", 1),
        ["2024-03-11T06:30:00+00:00"]
    );
}

#[test]
fn fall_back_daily_in_the_overlap_fires_once_at_the_earlier_instant() {
    // 2024-11-03: 02:00 EDT falls back to 01:00 EST; 01:00–01:59 happen twice.
    assert_eq!(
        fires("30 1 * * *", NY, "2024-11-02T12:00:00Z", 2),
        [
            "2024-11-03T05:30:00+00:00", // 01:30 EDT; not again at 01:30 EST (06:30Z)
            "2024-11-04T06:30:00+00:00", // 01:30 EST the next day
        ]
    );
    // Looking from inside the second pass of the overlap: not 01:30 EST either.
    assert_eq!(
        fires("30 1 * * *", NY, "2024-11-03T06:15:00Z", 1),
        ["2024-11-04T06:30:00+00:00"]
    );
    // 02:30 is not ambiguous: once, in EST.
    assert_eq!(
        fires("30 2 * * *", NY, "2024-11-02T12:00:00Z", 2),
        ["2024-11-03T07:30:00+00:00", "2024-11-04T07:30:00+00:00"]
    );
}

#[test]
fn hourly_across_spring_forward_skips_the_missing_hour() {
    assert_eq!(
        fires("@hourly", NY, "2024-03-10T05:30:00Z", 3),
        [
            "2024-03-10T06:00:00+00:00", // 01:00 EST
            "2024-03-10T07:00:00+00:00", // 03:00 EDT: one real hour later
            "2024-03-10T08:00:00+00:00", // 04:00 EDT
        ]
    );
    // A wildcard spec with matches inside the gap skips them rather than bunching them.
    assert_eq!(
        fires("*/15 * * * *", NY, "2024-03-10T06:40:00Z", 3),
        [
            "2024-03-10T06:45:00+00:00",
            "2024-03-10T07:00:00+00:00",
            "2024-03-10T07:15:00+00:00"
        ]
    );
}

#[test]
fn hourly_across_fall_back_fires_every_real_hour() {
    assert_eq!(
        fires("0 * * * *", NY, "2024-11-03T03:30:00Z", 4),
        [
            "2024-11-03T04:00:00+00:00", // 00:00 EDT
            "2024-11-03T05:00:00+00:00", // 01:00 EDT
            "2024-11-03T06:00:00+00:00", // 01:00 EST
            "2024-11-03T07:00:00+00:00", // 02:00 EST
        ]
    );
    assert_eq!(
        fires("*/30 * * * *", NY, "2024-11-03T04:45:00Z", 5),
        [
            "2024-11-03T05:00:00+00:00",
            "2024-11-03T05:30:00+00:00",
            "2024-11-03T06:00:00+00:00",
            "2024-11-03T06:30:00+00:00",
            "2024-11-03T07:00:00+00:00",
        ]
    );
    // From inside the first pass: the repeated 01:00 (EST) still comes, after 01:30 EDT.
    assert_eq!(
        fires("*/30 * * * *", NY, "2024-11-03T05:15:00Z", 2),
        ["2024-11-03T05:30:00+00:00", "2024-11-03T06:00:00+00:00"]
    );
    // From inside the second pass.
    assert_eq!(
        fires("0 * * * *", NY, "2024-11-03T06:15:00Z", 1),
        ["2024-11-03T07:00:00+00:00"]
    );
}

#[test]
fn half_hour_dst_zone() {
    // Lord Howe Island shifts by 30 minutes: on 2024-04-07 02:00 LHDT (+11) → 01:30 LHST (+10:30).
    let tz: Tz = "Australia/Lord_Howe".parse().unwrap();
    // 01:45 happens twice; a fixed-time job fires once.
    let spec = CronSpec::parse("45 1 * * *").unwrap();
    let first = spec.next_after(utc("2024-04-06T12:00:00Z"), &tz).unwrap();
    assert_eq!(first, utc("2024-04-06T14:45:00Z")); // 01:45 +11:00
    let second = spec.next_after(first, &tz).unwrap();
    assert_eq!(second, utc("2024-04-07T15:15:00Z")); // next day, 01:45 +10:30
}

#[test]
fn parse_errors() {
    for bad in [
        "",
        "   ",
        "* * * *",
        "* * * * * * *",
        "61 * * * *",
        "* 24 * * *",
        "abc",
        "@reboot",
        "@every 5m",
        "* * 32 * *",
    ] {
        match CronSpec::parse(bad) {
            Err(ScheduleError::InvalidCron { spec, reason }) => {
                assert_eq!(spec, bad);
                assert!(!reason.is_empty());
            }
            other => panic!("{bad:?}: expected InvalidCron, got {other:?}"),
        }
    }
}

#[test]
fn never_firing_specs_are_detected_cheaply() {
    let from = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    for never in [
        "0 0 30 2 *",
        "0 0 31 4 *",
        "0 0 31 2,4,6,9,11 *",
        "0 0 0 30 2 *",
    ] {
        assert!(
            !CronSpec::parse(never).unwrap().has_matching_day(from),
            "{never}"
        );
    }
    for rare in ["0 0 29 2 *", "0 0 31 * *", "0 0 30 2 1"] {
        assert!(
            CronSpec::parse(rare).unwrap().has_matching_day(from),
            "{rare}"
        );
    }
}

#[test]
fn wildcard_classification() {
    for (spec, wild) in [
        ("30 2 * * *", false),
        ("0 2,14 * * *", false),
        ("@daily", false),
        ("@hourly", true),
        ("*/15 * * * *", true),
        ("0 * * * *", true),
        ("*/10 30 2 * * *", false),
        ("0 */2 * * *", true),
    ] {
        assert_eq!(CronSpec::parse(spec).unwrap().wildcard, wild, "{spec}");
    }
}
