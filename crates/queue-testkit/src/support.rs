//! Helpers shared by the checks: bounded waits, claims that must succeed, and time
//! comparisons that tolerate a backend clock that is not the test's clock.

use std::future::Future;
use std::time::Duration;

use queue_core::{Backend, Job, JobId, JobState, Lease, NewJob, QueueError, Result};
use time::OffsetDateTime;

/// Upper bound of every wait for something that should happen "soon". Generous, because
/// CI machines stall; a correct backend is normally done in milliseconds.
pub const WAIT: Duration = Duration::from_secs(5);

/// How far a backend's clock (database, Redis server) may be from the test's clock.
pub const CLOCK_SKEW: Duration = Duration::from_secs(10);

/// How often bounded waits look again.
const POLL: Duration = Duration::from_millis(10);

/// Calls `check` until it returns true; panics naming `what` once `timeout` has passed.
pub async fn wait_until<F, Fut>(what: &str, timeout: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    wait_for(what, timeout, || {
        let fut = check();
        async move { fut.await.then_some(()) }
    })
    .await
}

/// Calls `check` until it returns `Some`, and returns that; panics naming `what` once
/// `timeout` has passed.
pub async fn wait_for<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        if tokio::time::Instant::now() >= deadline {
            panic!("timed out after {timeout:?} waiting for: {what}");
        }
        tokio::time::sleep(POLL).await;
    }
}

/// A job of `kind` with a small payload.
pub fn job(kind: &str) -> NewJob {
    NewJob::new(kind, serde_json::json!({ "kind": kind }))
}

/// Enqueues `job`, which must be accepted.
pub async fn enqueue(q: &dyn Backend, job: NewJob) -> JobId {
    let kind = job.kind.clone();
    q.enqueue(job).await.unwrap_or_else(|e| {
        panic!(
            "enqueue of a valid {kind:?} job failed: {}",
            queue_core::ErrorChain(&e)
        )
    })
}

/// Claims a job of `kinds`, which must be there now.
pub async fn claim(q: &dyn Backend, kinds: &[&str]) -> Job {
    q.dequeue(kinds)
        .await
        .expect("dequeue failed")
        .unwrap_or_else(|| panic!("expected a claimable job of {kinds:?}, got none"))
}

/// The lease of a claimed job, which must have one.
pub fn lease_of(job: &Job) -> Lease {
    job.lease
        .unwrap_or_else(|| panic!("claimed job {} has no lease", job.id))
}

/// Polls `dequeue(kinds)` until it hands out a job, which must be `id`.
pub async fn claim_when_due(q: &dyn Backend, kinds: &[&str], id: JobId, what: &str) -> Job {
    let job = wait_for(what, WAIT, || async {
        q.dequeue(kinds).await.expect("dequeue failed")
    })
    .await;
    assert_eq!(job.id, id, "{what}: a different job was claimed");
    job
}

/// The stored job, which must exist.
pub async fn get(q: &dyn Backend, id: JobId) -> Job {
    q.get_job(id)
        .await
        .expect("get_job failed")
        .unwrap_or_else(|| panic!("job {id} is not stored"))
}

/// The job's state, or `None` when it is no longer stored (completed jobs may be
/// dropped at once when the backend retains none).
pub async fn state(q: &dyn Backend, id: JobId) -> Option<JobState> {
    q.get_job(id)
        .await
        .expect("get_job failed")
        .map(|j| j.state)
}

/// Asserts that `id` completed: stored as `completed`, or no longer stored at all.
pub async fn assert_completed(q: &dyn Backend, id: JobId) {
    let st = state(q, id).await;
    assert!(
        matches!(st, None | Some(JobState::Completed)),
        "job {id} should have completed, but is {st:?}"
    );
}

/// Asserts that `r` is `Err(LeaseLost(id))`.
pub fn assert_lease_lost<T: std::fmt::Debug>(r: Result<T>, id: JobId, what: &str) {
    match r {
        Err(QueueError::LeaseLost(lost)) => {
            assert_eq!(lost, id, "{what}: LeaseLost names the wrong job");
        }
        other => panic!("{what}: expected Err(LeaseLost({id})), got {other:?}"),
    }
}

/// Asserts that `t` is within [`CLOCK_SKEW`] of the test's clock.
pub fn assert_near_now(t: OffsetDateTime, what: &str) {
    let now = OffsetDateTime::now_utc();
    let off = (now - t).unsigned_abs();
    assert!(
        off <= CLOCK_SKEW,
        "{what} is {t}, {off:?} away from now ({now})"
    );
}

/// `later - earlier` as a signed `time::Duration`, for readable assertions.
pub fn gap(earlier: OffsetDateTime, later: OffsetDateTime) -> time::Duration {
    later - earlier
}

/// `d` as a `time::Duration`.
pub fn td(d: Duration) -> time::Duration {
    time::Duration::try_from(d).unwrap_or(time::Duration::MAX)
}

/// Tolerance for timestamps a backend stores with less than nanosecond precision.
pub const ROUNDING: time::Duration = time::Duration::milliseconds(2);

/// The backend as the `Arc<dyn Queue>` a [`queue_core::Worker`] takes.
pub fn as_queue(q: &std::sync::Arc<dyn Backend>) -> std::sync::Arc<dyn queue_core::Queue> {
    q.clone()
}

/// A shared counter for handlers to bump and checks to read.
#[derive(Clone, Debug, Default)]
pub struct Counter(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl Counter {
    /// Adds one; returns the new value.
    pub fn bump(&self) -> usize {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1
    }

    /// Subtracts one.
    pub fn drop_one(&self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }

    /// The current value.
    pub fn get(&self) -> usize {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// Tracks how many handlers run at once, and the most seen.
#[derive(Clone, Debug, Default)]
pub struct InFlight {
    now: Counter,
    max: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl InFlight {
    /// A handler starts.
    pub fn enter(&self) {
        let n = self.now.bump();
        self.max.fetch_max(n, std::sync::atomic::Ordering::SeqCst);
    }

    /// A handler ends.
    pub fn leave(&self) {
        self.now.drop_one();
    }

    /// The most handlers seen running at once.
    pub fn max(&self) -> usize {
        self.max.load(std::sync::atomic::Ordering::SeqCst)
    }
}
