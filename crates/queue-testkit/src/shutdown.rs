//! Long jobs: heartbeats while they run, and graceful shutdown.

use std::time::Duration;

use queue_core::{Job, JobId, JobState, ShutdownReport, Worker, WorkerHandle};

use crate::support::{
    as_queue, assert_completed, claim, enqueue, get, job, wait_until, Counter, InFlight, WAIT,
};
use crate::{Factory, Setup};

/// A handler that marks when it starts and finishes, sleeping `d` in between.
fn sleeper(
    d: Duration,
    started: Counter,
    finished: Counter,
) -> impl Fn(
    Job,
) -> std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<(), queue_core::JobError>> + Send>,
> + Send
       + Sync
       + 'static {
    move |_job: Job| {
        let (s, f) = (started.clone(), finished.clone());
        Box::pin(async move {
            s.bump();
            tokio::time::sleep(d).await;
            f.bump();
            Ok(())
        })
    }
}

/// The worker's heartbeats keep a job alive past its lease: it runs exactly once, never
/// twice at the same time, and completes.
pub async fn heartbeat_keeps_long_job(f: &dyn Factory) {
    // The handler outlives the lease more than twice; the worker beats every third of a
    // lease, so only a stall of two beats (over 600 ms) could lose it. A 250 ms lease was
    // lost on a loaded CI machine.
    let q = f
        .make(Setup::default().lease(Duration::from_millis(1000)))
        .await;
    let id = enqueue(&*q, job("long")).await;
    let runs = Counter::default();
    let in_flight = InFlight::default();
    let (r, t) = (runs.clone(), in_flight.clone());
    let w = Worker::new(as_queue(&q))
        .handle("long", move |_job: Job| {
            let (r, t) = (r.clone(), t.clone());
            async move {
                r.bump();
                t.enter();
                tokio::time::sleep(Duration::from_millis(2500)).await;
                t.leave();
                Ok(())
            }
        })
        .concurrency(4)
        .start()
        .expect("worker start failed");
    wait_until("the long job to complete", WAIT, || async {
        w.stats().completed == 1
    })
    .await;
    let stats = w.stats();
    w.shutdown(Duration::from_secs(5)).await;
    assert_eq!(
        runs.get(),
        1,
        "the job ran again: its lease was not kept alive"
    );
    assert_eq!(in_flight.max(), 1, "the job ran twice at the same time");
    assert_eq!(stats.lease_lost, 0);
    assert_completed(&*q, id).await;
}

/// Shutdown lets a job in flight finish when it can within the timeout.
pub async fn shutdown_finishes_short_job(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    let id = enqueue(&*q, job("short")).await;
    let (started, finished) = (Counter::default(), Counter::default());
    let w = Worker::new(as_queue(&q))
        .handle(
            "short",
            sleeper(
                Duration::from_millis(300),
                started.clone(),
                finished.clone(),
            ),
        )
        .start()
        .expect("worker start failed");
    wait_until("the job to start", WAIT, || async { started.get() == 1 }).await;
    let report = w.shutdown(Duration::from_secs(5)).await;
    assert_eq!(
        report,
        ShutdownReport {
            finished: 1,
            returned: 0
        }
    );
    assert_eq!(finished.get(), 1, "the job in flight ran to its end");
    assert_completed(&*q, id).await;
    let stats = q.stats().await.expect("stats failed");
    assert_eq!((stats.pending, stats.running), (0, 0));
}

/// A 30 s job with a single attempt, running under a fresh worker; its handler's
/// finishes are counted.
async fn long_job_running(
    f: &dyn Factory,
) -> (
    std::sync::Arc<dyn queue_core::Backend>,
    JobId,
    WorkerHandle,
    Counter,
) {
    let q = f.make(Setup::default()).await;
    let id = enqueue(&*q, job("long").max_attempts(1)).await;
    let (started, finished) = (Counter::default(), Counter::default());
    let w = Worker::new(as_queue(&q))
        .handle(
            "long",
            sleeper(Duration::from_secs(30), started.clone(), finished.clone()),
        )
        .start()
        .expect("worker start failed");
    wait_until("the job to start", WAIT, || async { started.get() == 1 }).await;
    (q, id, w, finished)
}

/// A job still running at the shutdown deadline is stopped and returned to pending
/// without using an attempt.
pub async fn shutdown_returns_long_job(f: &dyn Factory) {
    let (q, id, w, finished) = long_job_running(f).await;
    let report = w.shutdown(Duration::from_millis(200)).await;
    assert_eq!(
        report,
        ShutdownReport {
            finished: 0,
            returned: 1
        }
    );
    assert_eq!(finished.get(), 0);
    let j = get(&*q, id).await;
    assert_eq!(
        j.state,
        JobState::Pending,
        "a returned job is pending again"
    );
    assert_eq!(j.last_error, None, "returning a job is not a failure");
    // Its only attempt was given back: it can run again, as attempt 1.
    let again = claim(&*q, &[]).await;
    assert_eq!((again.id, again.attempts), (id, 1));
}

/// Dropping the worker's handle is a shutdown with no time for running jobs: the
/// handler is stopped and its job returned to pending at once (not left running until
/// its lease runs out), without using an attempt.
pub async fn dropping_worker_returns_running_job(f: &dyn Factory) {
    let (q, id, w, finished) = long_job_running(f).await;
    drop(w);
    wait_until(
        "the dropped worker's job to be pending again",
        WAIT,
        || async { get(&*q, id).await.state == JobState::Pending },
    )
    .await;
    assert_eq!(finished.get(), 0);
    let again = claim(&*q, &[]).await;
    assert_eq!(
        (again.id, again.attempts),
        (id, 1),
        "the dropped run's attempt was given back"
    );
}
