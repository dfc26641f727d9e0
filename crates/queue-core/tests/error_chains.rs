//! Every error prints what failed once and why once: walking `source()` the way anyhow's
//! `{:#}` does never shows the same text twice.

use std::error::Error;

use queue_core::{ErrorChain, Job, JobId, QueueError};

/// A driver error with a cause of its own, as database drivers have.
#[derive(Debug, thiserror::Error)]
#[error("error returned from database")]
struct Driver(#[source] std::io::Error);

fn driver() -> Driver {
    Driver(std::io::Error::other("relation \"jobs\" does not exist"))
}

fn serde_error() -> serde_json::Error {
    match serde_json::from_str::<u32>("\"text\"") {
        Err(e) => e,
        Ok(n) => panic!("\"text\" parsed as {n}"),
    }
}

fn every_variant() -> Vec<QueueError> {
    let id = JobId::from_bytes([7; 16]);
    vec![
        QueueError::InvalidJob("empty kind".into()),
        QueueError::InvalidConfig("table name".into()),
        QueueError::InvalidRequest("purge of running jobs".into()),
        QueueError::Full,
        QueueError::Closed,
        QueueError::LeaseLost(id),
        QueueError::NotClaimed(id),
        QueueError::Payload {
            id: Some(id),
            source: serde_error(),
        },
        QueueError::Payload {
            id: None,
            source: serde_error(),
        },
        QueueError::Corrupt {
            id: Some(id),
            reason: "state \"x\"".into(),
        },
        QueueError::backend(driver()),
        QueueError::rejected(driver()),
        QueueError::migration(3, driver()),
    ]
}

/// The text of the error and of each of its causes, outermost first.
fn chain(e: &(dyn Error + 'static)) -> Vec<String> {
    let mut texts = vec![e.to_string()];
    let mut next = e.source();
    while let Some(cause) = next {
        texts.push(cause.to_string());
        next = cause.source();
    }
    texts
}

#[test]
fn no_text_of_a_chain_repeats_another() {
    for e in every_variant() {
        let texts = chain(&e);
        for (i, outer) in texts.iter().enumerate() {
            assert!(!outer.is_empty(), "{e:?} has an empty text at level {i}");
            for inner in &texts[i + 1..] {
                assert!(
                    !outer.contains(inner.as_str()),
                    "{e:?}: {outer:?} repeats its cause {inner:?}"
                );
            }
        }
        assert_eq!(ErrorChain(&e).to_string(), texts.join(": "), "{e:?}");
    }
}

#[test]
fn errors_with_a_cause_keep_it_as_source() {
    let with_cause = every_variant()
        .into_iter()
        .filter(|e| e.source().is_some())
        .count();
    // Payload twice, Backend, Rejected and Migration.
    assert_eq!(with_cause, 5);
    let e = QueueError::backend(driver());
    let printed = ErrorChain(&e).to_string();
    assert_eq!(
        printed,
        "backend error: error returned from database: relation \"jobs\" does not exist"
    );
    assert!(e
        .source()
        .and_then(|s| s.downcast_ref::<Driver>())
        .is_some());
}

#[test]
fn payload_errors_say_they_are_about_serialisation() {
    let e = QueueError::Payload {
        id: None,
        source: serde_error(),
    };
    assert!(
        e.to_string()
            .starts_with("payload (de)serialisation failed"),
        "{e}"
    );
}

#[test]
fn only_backend_trouble_is_transient() {
    for e in every_variant() {
        assert_eq!(
            e.is_transient(),
            matches!(e, QueueError::Backend(_)),
            "{e:?}"
        );
    }
}

#[test]
fn an_unclaimed_job_has_no_lease() {
    // As `get_job` returns it: stored, not claimed.
    let job: Job = serde_json::from_value(serde_json::json!({
        "id": JobId::from_bytes([1; 16]).to_string(),
        "kind": "email",
        "payload": {},
        "priority": 0,
        "attempts": 0,
        "max_attempts": 3,
        "created_at": "2026-11-29T12:00:00Z",
        "scheduled_at": "2026-11-29T12:00:00Z",
        "state": "pending",
    }))
    .unwrap_or_else(|e| panic!("{e}"));
    match job.lease() {
        Err(QueueError::NotClaimed(id)) => assert_eq!(id, job.id),
        other => panic!("expected NotClaimed, got {other:?}"),
    }
}
