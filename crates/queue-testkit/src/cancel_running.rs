//! Cancelling a running job through the worker that holds it: its handler's token fires
//! with [`CancelReason::Requested`], and the job ends `cancelled` unless the handler
//! still succeeds; a handler that ignores the token is dropped after the grace period.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use queue_core::{
    Backend, CancelOutcome, CancelReason, Job, JobContext, JobError, JobId, JobState, Worker,
};

use crate::support::{as_queue, assert_completed, enqueue, get, job, wait_until, Counter, WAIT};
use crate::{Factory, Setup};

const SHUTDOWN: Duration = Duration::from_secs(5);

/// A grace far longer than any wait here: a handler that ends in time did so because it
/// honoured its token, not because it was dropped.
const LONG_GRACE: Duration = Duration::from_secs(60);

/// Waits until `id` is running with its handler started, then asks to cancel it.
async fn cancel_when_started(q: &dyn Backend, started: &Counter, id: JobId) {
    wait_until("the handler to start", WAIT, || async {
        started.get() == 1
    })
    .await;
    assert_eq!(
        q.cancel(id).await.expect("cancel failed"),
        CancelOutcome::Requested
    );
}

async fn wait_for_state(q: &dyn Backend, id: JobId, want: JobState) {
    wait_until(&format!("the job to end {want}"), WAIT, || async {
        get(q, id).await.state == want
    })
    .await;
}

/// Cancel of a job a worker runs fires its handler's token with `Requested` at once (by
/// the backend's announcement, long before a heartbeat of the 30 s lease); the handler
/// gives up with an error and the job ends `cancelled`, its attempt not retried.
pub async fn worker_hears_request_and_job_ends_cancelled(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    let id = enqueue(&*q, job("slow")).await;
    let started = Counter::default();
    let seen: Arc<Mutex<Vec<Option<CancelReason>>>> = Arc::default();
    let w = {
        let (started, seen) = (started.clone(), seen.clone());
        Worker::new(as_queue(&q))
            .handle("slow", move |_job: Job, ctx: JobContext| {
                let (started, seen) = (started.clone(), seen.clone());
                async move {
                    started.bump();
                    ctx.cancelled().await;
                    seen.lock().unwrap().push(ctx.cancel_reason());
                    Err::<(), _>(JobError::retry("stopped on request"))
                }
            })
            .cancel_grace(LONG_GRACE)
            .start()
            .expect("worker start failed")
    };
    cancel_when_started(&*q, &started, id).await;
    wait_for_state(&*q, id, JobState::Cancelled).await;
    w.shutdown(SHUTDOWN).await;
    assert_eq!(*seen.lock().unwrap(), [Some(CancelReason::Requested)]);
    let stored = get(&*q, id).await;
    assert!(stored.cancel_requested);
    assert_eq!(stored.attempts, 1, "never retried");
    let stats = q.stats().await.expect("stats failed");
    assert_eq!((stats.cancelled, stats.failed, stats.pending), (1, 0, 0));
}

/// A handler that ignores its token is dropped once the grace period after the request
/// is over, and the job ends `cancelled`.
pub async fn ignoring_handler_is_dropped_after_grace(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    let id = enqueue(&*q, job("stubborn")).await;
    let started = Counter::default();
    let dropped = Arc::new(AtomicBool::new(false));
    struct OnDrop(Arc<AtomicBool>);
    impl Drop for OnDrop {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    let w = {
        let (started, dropped) = (started.clone(), dropped.clone());
        Worker::new(as_queue(&q))
            .handle("stubborn", move |_job: Job| {
                let (started, guard) = (started.clone(), OnDrop(dropped.clone()));
                async move {
                    let _guard = guard;
                    started.bump();
                    std::future::pending::<()>().await;
                    Ok(())
                }
            })
            .cancel_grace(Duration::from_millis(200))
            .start()
            .expect("worker start failed")
    };
    cancel_when_started(&*q, &started, id).await;
    wait_for_state(&*q, id, JobState::Cancelled).await;
    assert!(dropped.load(Ordering::SeqCst), "the handler was dropped");
    w.shutdown(SHUTDOWN).await;
    assert_eq!(q.stats().await.expect("stats failed").cancelled, 1);
}

/// A handler that finishes successfully despite the request (its work was done) leaves
/// the job `completed`.
pub async fn success_after_request_stays_completed(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    let id = enqueue(&*q, job("quick")).await;
    let started = Counter::default();
    let reason: Arc<Mutex<Option<CancelReason>>> = Arc::default();
    let w = {
        let (started, reason) = (started.clone(), reason.clone());
        Worker::new(as_queue(&q))
            .handle("quick", move |_job: Job, ctx: JobContext| {
                let (started, reason) = (started.clone(), reason.clone());
                async move {
                    started.bump();
                    ctx.cancelled().await;
                    *reason.lock().unwrap() = ctx.cancel_reason();
                    Ok(())
                }
            })
            .cancel_grace(LONG_GRACE)
            .start()
            .expect("worker start failed")
    };
    cancel_when_started(&*q, &started, id).await;
    wait_until("the job to end", WAIT, || async {
        get(&*q, id).await.state != JobState::Running
    })
    .await;
    w.shutdown(SHUTDOWN).await;
    assert_completed(&*q, id).await;
    assert_eq!(*reason.lock().unwrap(), Some(CancelReason::Requested));
    let stats = q.stats().await.expect("stats failed");
    assert_eq!((stats.completed, stats.cancelled), (1, 0));
}

/// With two handles on one backend (two processes), a cancel through one reaches the
/// worker of the other that runs the job, which stops it; the job ends `cancelled`.
/// The lease is short enough that the heartbeat alone would tell it within the wait.
pub async fn request_reaches_worker_on_other_handle(f: &dyn Factory) {
    other_handle(f, Duration::from_secs(2)).await;
}

/// As [`request_reaches_worker_on_other_handle`], with the default 30 s lease: the first
/// heartbeat comes too late, so the backend's announcement must carry the request across
/// handles. Not in the common list: SQLite announces within one handle only. Backends
/// that announce across processes (Postgres, Redis) run it from their own tests.
pub async fn announced_request_reaches_other_handle(f: &dyn Factory) {
    other_handle(f, queue_core::DEFAULT_LEASE_TIMEOUT).await;
}

async fn other_handle(f: &dyn Factory, lease: Duration) {
    let [runner, admin] = f.make_pair(Setup::default().lease(lease)).await;
    let id = enqueue(&*runner, job("slow")).await;
    let started = Counter::default();
    let seen: Arc<Mutex<Option<CancelReason>>> = Arc::default();
    let w = {
        let (started, seen) = (started.clone(), seen.clone());
        Worker::new(as_queue(&runner))
            .handle("slow", move |_job: Job, ctx: JobContext| {
                let (started, seen) = (started.clone(), seen.clone());
                async move {
                    started.bump();
                    ctx.cancelled().await;
                    *seen.lock().unwrap() = ctx.cancel_reason();
                    Err::<(), _>(JobError::retry("stopped on request"))
                }
            })
            .cancel_grace(LONG_GRACE)
            .start()
            .expect("worker start failed")
    };
    cancel_when_started(&*admin, &started, id).await;
    wait_for_state(&*admin, id, JobState::Cancelled).await;
    w.shutdown(SHUTDOWN).await;
    assert_eq!(*seen.lock().unwrap(), Some(CancelReason::Requested));
    assert_eq!(admin.stats().await.expect("stats failed").cancelled, 1);
}

/// A job claimed ahead that waits for a free slot is handed back at once on request,
/// without its handler ever starting, and ends `cancelled`.
pub async fn waiting_job_is_handed_back_cancelled(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    let first = enqueue(&*q, job("one").priority(1)).await;
    let ahead = enqueue(&*q, job("one")).await;
    let started: Arc<Mutex<Vec<JobId>>> = Arc::default();
    let release = Arc::new(AtomicBool::new(false));
    let w = {
        let (started, release) = (started.clone(), release.clone());
        Worker::new(as_queue(&q))
            .handle("one", move |job: Job| {
                let (started, release) = (started.clone(), release.clone());
                async move {
                    started.lock().unwrap().push(job.id);
                    while !release.load(Ordering::SeqCst) {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                    Ok(())
                }
            })
            .concurrency(1)
            .prefetch(1)
            .start()
            .expect("worker start failed")
    };
    wait_until(
        "one job to run and one to be claimed ahead",
        WAIT,
        || async {
            started.lock().unwrap().len() == 1 && get(&*q, ahead).await.state == JobState::Running
        },
    )
    .await;
    assert_eq!(*started.lock().unwrap(), [first]);
    assert_eq!(
        q.cancel(ahead).await.expect("cancel failed"),
        CancelOutcome::Requested
    );
    wait_for_state(&*q, ahead, JobState::Cancelled).await;
    release.store(true, Ordering::SeqCst);
    wait_for_state(&*q, first, JobState::Completed).await;
    w.shutdown(SHUTDOWN).await;
    assert_eq!(
        *started.lock().unwrap(),
        [first],
        "the cancelled job never started"
    );
}
