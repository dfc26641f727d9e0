//! What `#[derive(JobArgs)]` puts in a `NewJob`, and that queue-core accepts it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use queue_core::{JobArgs, NewJob, RunAt, Unique, MAX_DELAY, MAX_KIND_LEN};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, JobArgs)]
#[job(
    kind = "email",
    priority = 1,
    max_attempts = 5,
    unique = "email:{to}",
    unique_for = "1h"
)]
struct SendEmail {
    to: String,
    subject: String,
}

#[test]
fn every_key_lands_in_the_job() {
    let args = SendEmail {
        to: "a@example.com".into(),
        subject: "hi".into(),
    };
    let job = args.to_job().unwrap();
    assert_eq!(job.kind, "email");
    assert_eq!(SendEmail::KIND, "email");
    assert_eq!(job.priority, 1);
    assert_eq!(job.max_attempts, 5);
    assert_eq!(job.run_at, RunAt::Now);
    assert_eq!(
        job.unique,
        Some(Unique {
            key: "email:a@example.com".into(),
            window: Some(Duration::from_secs(3600)),
        })
    );
    assert_eq!(
        job.payload,
        serde_json::json!({"to": "a@example.com", "subject": "hi"})
    );
    job.prepare().unwrap();
}

#[derive(Serialize, Deserialize, JobArgs)]
#[job(kind = "plain")]
struct Plain {
    n: u32,
}

#[test]
fn only_a_kind_gives_the_plain_job() {
    let job = Plain { n: 3 }.to_job().unwrap();
    assert_eq!(job, NewJob::new("plain", serde_json::json!({"n": 3})));
}

#[derive(Serialize, Deserialize, JobArgs)]
#[job(kind = "report.daily")]
#[job(priority = -3, delay = "1h30m", unique = "report:{0}:{{{1}}}")]
struct Report(u32, String);

#[test]
fn tuple_fields_braces_negative_priority_and_delay() {
    let job = Report(7, "eu".into()).to_job().unwrap();
    assert_eq!(job.priority, -3);
    assert_eq!(job.run_at, RunAt::After(Duration::from_secs(5400)));
    assert_eq!(
        job.unique,
        Some(Unique {
            key: "report:7:{eu}".into(),
            window: None,
        })
    );
}

#[test]
fn builder_calls_override_the_defaults() {
    let job = Report(1, "us".into())
        .to_job()
        .unwrap()
        .priority(9)
        .delay(Duration::from_secs(1));
    assert_eq!(job.priority, 9);
    assert_eq!(job.run_at, RunAt::After(Duration::from_secs(1)));
}

#[derive(Serialize, Deserialize, JobArgs)]
#[job(kind = "cache.refresh", unique = "cache.refresh", unique_for = 90)]
enum Refresh {
    All,
    One { key: String },
}

#[test]
fn enums_with_a_fixed_key_and_seconds() {
    for args in [Refresh::All, Refresh::One { key: "k".into() }] {
        let job = args.to_job().unwrap();
        assert_eq!(
            job.unique,
            Some(Unique {
                key: "cache.refresh".into(),
                window: Some(Duration::from_secs(90)),
            })
        );
    }
}

#[derive(Serialize, Deserialize, JobArgs)]
#[job(kind = "generic", unique = "g:{value}")]
#[serde(bound = "T: Serialize + serde::de::DeserializeOwned")]
struct Generic<T>
where
    T: std::fmt::Display + Serialize + serde::de::DeserializeOwned + Send + Sync + 'static,
{
    value: T,
}

#[test]
fn generic_types() {
    let job = Generic { value: 5u8 }.to_job().unwrap();
    assert_eq!(job.unique.map(|u| u.key), Some("g:5".into()));
    assert_eq!(<Generic<u8> as JobArgs>::KIND, "generic");
}

#[derive(Serialize, Deserialize, JobArgs)]
#[job(crate = "core_renamed", kind = "renamed")]
struct Renamed;

// The crate under another name, as a dependency renamed in Cargo.toml would be.
use queue_core as core_renamed;

#[test]
fn renamed_crate_path() {
    assert_eq!(Renamed.to_job().unwrap().kind, "renamed");
}

/// The limits the macro checks are the ones queue-core enforces: the longest kind and
/// window it lets through are accepted at enqueue.
#[derive(Serialize, Deserialize, JobArgs)]
#[job(
    kind = "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk",
    unique = "u",
    unique_for = "366000d",
    max_attempts = 4294967295
)]
struct AtTheLimits;

#[test]
fn limits_agree_with_queue_core() {
    let job = AtTheLimits.to_job().unwrap();
    assert_eq!(job.kind.len(), MAX_KIND_LEN);
    assert_eq!(job.unique.as_ref().and_then(|u| u.window), Some(MAX_DELAY));
    job.prepare().unwrap();
}

#[derive(Serialize, Deserialize, JobArgs)]
#[job(kind = "singleton", unique = "{{singleton}}")]
struct Singleton;

#[derive(Serialize, Deserialize, JobArgs)]
#[job(kind = "typed", unique = "{r#type}/{ id }")]
struct RawField {
    r#type: String,
    id: u64,
}

#[test]
fn fixed_keys_with_braces_and_raw_field_names() {
    assert_eq!(
        Singleton.to_job().unwrap().unique.map(|u| u.key),
        Some("{singleton}".into())
    );
    let job = RawField {
        r#type: "t".into(),
        id: 4,
    }
    .to_job()
    .unwrap();
    assert_eq!(job.unique.map(|u| u.key), Some("t/4".into()));
    assert_eq!(job.payload, serde_json::json!({"type": "t", "id": 4}));
}
