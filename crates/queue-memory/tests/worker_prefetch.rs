//! Jobs the worker claims ahead of its free slots: they hold leases like running jobs, so
//! the heartbeat must renew them, and stopping or pausing must hand them back untouched.
//! And handlers that hog their thread still spread over the runtime's threads.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use queue_core::{Browsable, Job, JobError, JobId, JobState, Queue, Worker, WorkerHandle};
use queue_memory::MemoryQueue;
use queue_testkit::support::{wait_until, Counter, InFlight};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(10);

async fn enqueue(q: &MemoryQueue, kind: &str, n: usize) -> Vec<JobId> {
    q.enqueue_batch((0..n).map(|i| Job::new(kind, json!(i))).collect())
        .await
        .unwrap()
}

/// One slot, a handler of `kind` that runs for `run_for`, and room to claim 4 ahead.
fn one_slot(q: Arc<MemoryQueue>, kind: &str, starts: &Counter, run_for: Duration) -> WorkerHandle {
    let s = starts.clone();
    Worker::new(q)
        .handle(kind, move |_job: Job| {
            let s = s.clone();
            async move {
                s.bump();
                tokio::time::sleep(run_for).await;
                Ok::<(), JobError>(())
            }
        })
        .concurrency(1)
        .prefetch(4)
        .start()
        .unwrap()
}

/// Jobs claimed ahead and not started are returned at shutdown without using an attempt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_hands_back_jobs_claimed_ahead() {
    let q = Arc::new(MemoryQueue::new());
    let ids = enqueue(&q, "long", 5).await;
    let starts = Counter::default();
    let worker = one_slot(q.clone(), "long", &starts, Duration::from_secs(3600));
    wait_until(
        "the first job to start and the rest to be claimed",
        WAIT,
        || async { starts.get() == 1 && worker.stats().claimed == 5 },
    )
    .await;
    let stats = q.stats().await.unwrap();
    assert_eq!(
        stats.running, 5,
        "the worker claimed 4 jobs ahead of its one slot"
    );

    let report = worker.shutdown(Duration::ZERO).await;
    assert_eq!(report.returned, 1, "one handler was running: {report:?}");
    assert_eq!(starts.get(), 1, "no job claimed ahead started");
    for id in ids {
        let job = q.get_job(id).await.unwrap().unwrap();
        assert_eq!(
            (job.state, job.attempts),
            (JobState::Pending, 0),
            "every job is back, its attempt given back"
        );
    }
}

/// The heartbeat renews the leases of jobs claimed ahead: with a lease far shorter than
/// the job before them, they still run once each, on their first attempt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leases_of_jobs_claimed_ahead_are_renewed() {
    let q = Arc::new(
        MemoryQueue::builder()
            .lease_timeout(Duration::from_millis(300))
            .build(),
    );
    let ids = enqueue(&q, "k", 3).await;
    let starts = Counter::default();
    let worker = one_slot(q.clone(), "k", &starts, Duration::from_millis(600));
    wait_until("every job to complete", WAIT, || async {
        worker.stats().completed == 3
    })
    .await;
    let stats = worker.stats();
    worker.shutdown(Duration::from_secs(5)).await;
    assert_eq!(stats.lease_lost, 0, "{stats:?}");
    assert_eq!(
        starts.get(),
        3,
        "a job ran twice: its lease ran out while it waited"
    );
    for id in ids {
        let job = q.get_job(id).await.unwrap().unwrap();
        assert_eq!((job.state, job.attempts), (JobState::Completed, 1));
    }
}

/// Pausing a kind hands back its jobs claimed ahead: none starts until it is resumed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_hands_back_jobs_claimed_ahead() {
    let q = Arc::new(MemoryQueue::new());
    let ids = enqueue(&q, "p", 3).await;
    let starts = Counter::default();
    let worker = one_slot(q.clone(), "p", &starts, Duration::from_millis(300));
    wait_until(
        "the first job to start and the rest to be claimed",
        WAIT,
        || async { starts.get() == 1 && worker.stats().claimed == 3 },
    )
    .await;
    worker.pause("p");
    wait_until("the jobs claimed ahead to be back", WAIT, || async {
        q.stats().await.unwrap().pending == 2
    })
    .await;
    // The running one finishes; the returned ones wait for the resume.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(starts.get(), 1, "a job of the paused kind started");
    worker.resume("p");
    wait_until("the resumed jobs to complete", WAIT, || async {
        worker.stats().completed == 3
    })
    .await;
    worker.shutdown(Duration::from_secs(5)).await;
    for id in ids {
        let job = q.get_job(id).await.unwrap().unwrap();
        assert_eq!((job.state, job.attempts), (JobState::Completed, 1));
    }
}

/// Handlers that block their thread (CPU-bound work) run on both of the runtime's
/// threads at once, although one claim brought them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_handlers_spread_over_the_threads() {
    let q = Arc::new(MemoryQueue::new());
    enqueue(&q, "cpu", 2).await;
    let in_flight = InFlight::default();
    let t = in_flight.clone();
    let worker = Worker::new(q.clone())
        .handle("cpu", move |_job: Job| {
            let t = t.clone();
            async move {
                t.enter();
                std::thread::sleep(Duration::from_millis(500));
                t.leave();
                Ok::<(), JobError>(())
            }
        })
        .concurrency(2)
        .start()
        .unwrap();
    wait_until("both jobs to complete", WAIT, || async {
        worker.stats().completed == 2
    })
    .await;
    worker.shutdown(Duration::from_secs(5)).await;
    assert_eq!(
        in_flight.max(),
        2,
        "the two jobs of one claim ran one after the other on one thread"
    );
}
