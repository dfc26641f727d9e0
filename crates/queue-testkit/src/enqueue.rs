//! Enqueue: defaults, validation, explicit ids.

use queue_core::{
    Job, JobId, JobState, QueueError, Stats, DEFAULT_MAX_ATTEMPTS, MAX_KIND_LEN, MAX_PAYLOAD_BYTES,
    MAX_UNIQUE_KEY_LEN,
};
use serde_json::json;

use crate::support::{assert_near_now, claim, enqueue, get};
use crate::{Factory, Setup};

/// Enqueue fills the defaults (pending, 0 attempts, 3 max attempts, timestamps of now, a
/// 26-character id) and `get_job` returns the job as given.
pub async fn fills_defaults(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    let payload = json!({ "to": "a@example.com", "n": [1, 2, 3] });
    let id = enqueue(&*q, Job::new("email", payload.clone())).await;
    assert_eq!(
        id.to_string().len(),
        26,
        "job ids print as 26-character ULIDs"
    );

    let job = get(&*q, id).await;
    assert_eq!(job.id, id);
    assert_eq!(job.kind, "email");
    assert_eq!(job.payload, payload, "payload must round-trip unchanged");
    assert_eq!(job.priority, 0);
    assert_eq!(job.state, JobState::Pending);
    assert_eq!(job.attempts, 0, "no claim yet, so no attempt");
    assert_eq!(
        job.max_attempts, DEFAULT_MAX_ATTEMPTS,
        "max_attempts 0 means the default"
    );
    assert_eq!(job.unique_key, None);
    assert_eq!(job.last_error, None);
    assert_eq!(job.lease, None, "a pending job holds no lease");
    assert_near_now(job.created_at, "created_at");
    assert_near_now(job.scheduled_at, "scheduled_at");
    assert!(
        (job.scheduled_at - job.created_at).abs() < time::Duration::seconds(1),
        "a job without delay is due when created ({} vs {})",
        job.scheduled_at,
        job.created_at
    );

    // Given values are kept, not replaced by defaults.
    let id = enqueue(
        &*q,
        Job::new("email", json!(null)).priority(-4).max_attempts(7),
    )
    .await;
    let job = get(&*q, id).await;
    assert_eq!(job.priority, -4);
    assert_eq!(job.max_attempts, 7);
    assert_eq!(job.payload, json!(null));
}

/// Invalid jobs fail with `InvalidJob` and write nothing.
pub async fn rejects_invalid_jobs(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    let bad = [
        ("an empty kind", Job::new("", json!(1))),
        ("a kind with a newline", Job::new("bad\nkind", json!(1))),
        ("a kind with a NUL", Job::new("bad\0kind", json!(1))),
        (
            "a kind with surrounding spaces",
            Job::new(" email ", json!(1)),
        ),
        (
            "an over-long kind",
            Job::new("k".repeat(MAX_KIND_LEN + 1), json!(1)),
        ),
        (
            "an empty unique key",
            Job::new("email", json!(1)).unique(""),
        ),
        (
            "an over-long unique key",
            Job::new("email", json!(1)).unique("u".repeat(MAX_UNIQUE_KEY_LEN + 1)),
        ),
        (
            "a zero unique window",
            Job::new("email", json!(1)).unique_for("key", std::time::Duration::ZERO),
        ),
        (
            "an over-large payload",
            Job::new("email", json!("p".repeat(MAX_PAYLOAD_BYTES))),
        ),
        (
            "a NUL in a payload string",
            Job::new("email", json!({"to": "a\u{0}b"})),
        ),
        (
            "a NUL in a payload key",
            Job::new("email", json!({"a\u{0}": 1})),
        ),
        (
            "a NUL in the unique key",
            Job::new("email", json!(1)).unique("k\0ey"),
        ),
        (
            "a delay of Duration::MAX",
            Job::new("email", json!(1)).delay(std::time::Duration::MAX),
        ),
        (
            "a delay past the limit",
            Job::new("email", json!(1))
                .delay(queue_core::MAX_DELAY + std::time::Duration::from_secs(1)),
        ),
        (
            "a unique window of Duration::MAX",
            Job::new("email", json!(1)).unique_for("key", std::time::Duration::MAX),
        ),
    ];
    for (what, job) in bad {
        match q.enqueue(job).await {
            Err(QueueError::InvalidJob(_)) => {}
            other => {
                panic!("enqueue of a job with {what}: expected Err(InvalidJob), got {other:?}")
            }
        }
    }
    let stats = q.stats().await.expect("stats failed");
    assert_eq!(stats, Stats::default(), "rejected jobs must not be stored");
    let listed = q.list_jobs(None, 0).await.expect("list_jobs failed");
    assert!(
        listed.is_empty(),
        "rejected jobs must not be listed: {listed:?}"
    );
    assert!(q.dequeue(&[]).await.expect("dequeue failed").is_none());

    // The longest valid kind is accepted: the limit is inclusive.
    let kind = "k".repeat(MAX_KIND_LEN);
    enqueue(&*q, Job::new(kind.as_str(), json!(1))).await;
    assert_eq!(claim(&*q, &[kind.as_str()]).await.kind, kind);
}

/// A job enqueued with an explicit id keeps it.
pub async fn keeps_explicit_id(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    let mine = JobId::new();
    let id = enqueue(&*q, Job::new("email", json!(1)).id(mine)).await;
    assert_eq!(id, mine, "enqueue must return the id it was given");
    assert_eq!(get(&*q, mine).await.id, mine);
    assert_eq!(claim(&*q, &[]).await.id, mine);
}
