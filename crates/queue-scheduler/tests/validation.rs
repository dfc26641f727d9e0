//! Every registration error, and the default-id rules.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use common::{secs, t0, FakeQueue};
use queue_core::{JobArgs, Queue, QueueError};
use queue_scheduler::{ManualClock, ScheduleError, Scheduler, MAX_CATCH_UP, MAX_ID_LEN};

fn scheduler() -> Scheduler {
    let clock = ManualClock::new(t0());
    let queue = FakeQueue::new(&clock);
    Scheduler::with_clock(vec![queue as Arc<dyn Queue>], clock)
}

#[test]
fn missing_job() {
    let err = scheduler().every(secs(60)).register().unwrap_err();
    assert!(matches!(err, ScheduleError::MissingJob), "{err:?}");
}

#[test]
fn invalid_kinds() {
    let s = scheduler();
    for kind in [
        String::new(),
        " padded".into(),
        "a\nb".into(),
        "k".repeat(256),
    ] {
        let err = s
            .every(secs(60))
            .job(kind.clone(), ())
            .register()
            .unwrap_err();
        assert!(
            matches!(err, ScheduleError::InvalidJob(QueueError::InvalidJob(_))),
            "{kind:?}: {err:?}"
        );
        assert_chain_does_not_repeat(&err);
    }
    assert!(s.schedules().is_empty());
}

#[test]
fn payload_that_does_not_serialise() {
    // JSON object keys must be strings.
    let mut payload = HashMap::new();
    payload.insert((1, 2), "x");
    let err = scheduler()
        .every(secs(60))
        .job("k", payload)
        .register()
        .unwrap_err();
    assert!(matches!(err, ScheduleError::Payload(_)), "{err:?}");
    assert_chain_does_not_repeat(&err);
}

/// The error's text says what failed; the cause is its source, not repeated in the text.
fn assert_chain_does_not_repeat(err: &ScheduleError) {
    let text = err.to_string();
    let cause = std::error::Error::source(err)
        .map(ToString::to_string)
        .unwrap_or_else(|| panic!("{err:?} has no source"));
    assert!(!text.contains(&cause), "{text:?} repeats {cause:?}");
    assert_eq!(
        queue_core::ErrorChain(err).to_string(),
        format!("{text}: {cause}")
    );
}

#[test]
fn oversized_payload() {
    let big = "x".repeat(queue_core::MAX_PAYLOAD_BYTES + 1);
    let err = scheduler()
        .every(secs(60))
        .job("k", big)
        .register()
        .unwrap_err();
    assert!(matches!(err, ScheduleError::InvalidJob(_)), "{err:?}");
}

#[test]
fn bad_intervals() {
    let s = scheduler();
    let err = s.every(Duration::ZERO).job("k", ()).register().unwrap_err();
    assert!(matches!(err, ScheduleError::ZeroInterval), "{err:?}");
    let err = s
        .every(Duration::from_micros(1500))
        .job("k", ())
        .register()
        .unwrap_err();
    assert!(
        matches!(err, ScheduleError::InvalidInterval { .. }),
        "{err:?}"
    );
    let err = s.every(Duration::MAX).job("k", ()).register().unwrap_err();
    assert!(
        matches!(err, ScheduleError::InvalidInterval { .. }),
        "{err:?}"
    );
    let err = s
        .every(secs(60))
        .time_zone(chrono_tz::Europe::Paris)
        .job("k", ())
        .register()
        .unwrap_err();
    assert!(matches!(err, ScheduleError::TimeZoneOnInterval), "{err:?}");
}

#[test]
fn bad_cron_specs() {
    let s = scheduler();
    for spec in [
        "",
        "* * * *",
        "61 * * * *",
        "* * * * * * *",
        "@reboot",
        "every minute",
    ] {
        let err = s.cron(spec).job("k", ()).register().unwrap_err();
        assert!(
            matches!(&err, ScheduleError::InvalidCron { spec: got, .. } if got == spec),
            "{spec:?}: {err:?}"
        );
        // The message names the spec and says what is wrong.
        assert!(err.to_string().contains("invalid cron spec"), "{err}");
    }
}

#[test]
fn cron_specs_that_never_fire() {
    let s = scheduler();
    for spec in ["0 0 30 2 *", "0 0 31 4 *", "0 0 0 31 11 *"] {
        let started = std::time::Instant::now();
        let err = s.cron(spec).job("k", ()).register().unwrap_err();
        assert!(
            matches!(&err, ScheduleError::NeverFires { spec: got } if got == spec),
            "{err:?}"
        );
        // Bounded work (a generous limit for a debug build on a shared machine).
        assert!(started.elapsed() < Duration::from_secs(2));
    }
    // Leap day is rare but real.
    s.cron("0 0 29 2 *").job("k", ()).register().unwrap();
}

#[test]
fn catch_up_limit() {
    let s = scheduler();
    s.every(secs(60))
        .job("a", ())
        .catch_up(MAX_CATCH_UP)
        .register()
        .unwrap();
    let err = s
        .every(secs(60))
        .job("b", ())
        .catch_up(MAX_CATCH_UP + 1)
        .register()
        .unwrap_err();
    assert!(
        matches!(err, ScheduleError::CatchUpTooLarge { .. }),
        "{err:?}"
    );
}

#[test]
fn unknown_queue() {
    let s = scheduler();
    let err = s
        .every(secs(60))
        .job("k", ())
        .on_queue(1)
        .register()
        .unwrap_err();
    assert!(
        matches!(
            err,
            ScheduleError::UnknownQueue {
                index: 1,
                queues: 1
            }
        ),
        "{err:?}"
    );
    let none = Scheduler::with_clock(Vec::new(), ManualClock::new(t0()));
    let err = none.every(secs(60)).job("k", ()).register().unwrap_err();
    assert!(
        matches!(
            err,
            ScheduleError::UnknownQueue {
                index: 0,
                queues: 0
            }
        ),
        "{err:?}"
    );
}

#[test]
fn invalid_ids() {
    let s = scheduler();
    for id in [
        String::new(),
        "has space".into(),
        "tab\t".into(),
        "x".repeat(MAX_ID_LEN + 1),
    ] {
        let err = s
            .every(secs(60))
            .job("k", ())
            .id(id.clone())
            .register()
            .unwrap_err();
        assert!(
            matches!(err, ScheduleError::InvalidId(_)),
            "{id:?}: {err:?}"
        );
    }
    s.every(secs(60))
        .job("k", ())
        .id("x".repeat(MAX_ID_LEN))
        .register()
        .unwrap();
}

#[test]
fn duplicate_ids() {
    let s = scheduler();
    let id = s.every(secs(60)).job("k", 1).register().unwrap();
    // The same definition again derives the same id.
    let err = s.every(secs(60)).job("k", 1).register().unwrap_err();
    assert!(
        matches!(&err, ScheduleError::DuplicateId(d) if *d == id),
        "{err:?}"
    );
    // An explicit id clash.
    s.every(secs(60))
        .job("k", 2)
        .id("nightly")
        .register()
        .unwrap();
    let err = s
        .cron("@daily")
        .job("other", ())
        .id("nightly")
        .register()
        .unwrap_err();
    assert!(
        matches!(&err, ScheduleError::DuplicateId(d) if d.as_str() == "nightly"),
        "{err:?}"
    );
    // Options that do not change what fires or when keep the id, so they clash too.
    let err = s
        .every(secs(60))
        .job("k", 1)
        .priority(5)
        .register()
        .unwrap_err();
    assert!(matches!(err, ScheduleError::DuplicateId(_)), "{err:?}");
    assert_eq!(s.schedules().len(), 2);
}

#[test]
fn default_ids_agree_across_schedulers_and_differ_by_definition() {
    let a = scheduler();
    let b = scheduler();
    let payload = serde_json::json!({"region": "eu", "size": 3});
    let ida = a
        .cron("0 3 * * *")
        .job("backup", &payload)
        .register()
        .unwrap();
    let idb = b
        .cron("0  3 * * *")
        .job("backup", &payload)
        .register()
        .unwrap();
    assert_eq!(ida, idb);
    assert!(ida.as_str().starts_with("backup@"));
    let other = b
        .cron("0 4 * * *")
        .job("backup", &payload)
        .register()
        .unwrap();
    assert_ne!(other, ida);
    let zoned = b
        .cron("0 3 * * *")
        .time_zone(chrono_tz::Europe::Paris)
        .job("backup", &payload)
        .register()
        .unwrap();
    assert_ne!(zoned, ida);
}

#[test]
fn typed_job_args() {
    #[derive(serde::Serialize, serde::Deserialize)]
    struct Cleanup {
        older_than_days: u32,
    }
    impl JobArgs for Cleanup {
        const KIND: &'static str = "cleanup";
    }
    let s = scheduler();
    s.cron("@daily")
        .job_args(&Cleanup {
            older_than_days: 30,
        })
        .register()
        .unwrap();
    assert_eq!(s.schedules()[0].kind, "cleanup");
}

#[test]
fn start_outside_a_runtime_is_an_error() {
    let err = scheduler().start().unwrap_err();
    assert!(matches!(err, ScheduleError::NoRuntime), "{err:?}");
}

#[tokio::test]
async fn start_twice_is_an_error() {
    let s = scheduler();
    let handle = s.start().unwrap();
    let err = s.start().unwrap_err();
    assert!(matches!(err, ScheduleError::AlreadyRunning), "{err:?}");
    handle.stop().await;
    // Once stopped it can start again.
    s.start().unwrap().stop().await;
}
