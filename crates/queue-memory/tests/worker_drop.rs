//! Dropping a `WorkerHandle` instead of shutting it down: as safe as a shutdown with no
//! time for running jobs. No handler keeps running without its heartbeat (the job would
//! run twice at once once its lease ran out), and no claimed job is left stuck.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use queue_core::{Browsable, Job, JobError, JobState, Queue, Worker, WorkerHandle};
use queue_memory::MemoryQueue;
use queue_testkit::intercept::{Hooks, Intercepted};
use queue_testkit::support::{wait_until, Counter, InFlight};
use serde_json::json;
use tokio::sync::Notify;

/// Bound of the waits; a working worker needs well under a second.
const WAIT: Duration = Duration::from_secs(10);

/// Leaves the in-flight count even when the worker drops the handler.
struct Leave(InFlight);

impl Drop for Leave {
    fn drop(&mut self) {
        self.0.leave();
    }
}

/// A worker whose handler for "long" records its runs and takes `run_for`.
fn long_worker(
    q: Arc<dyn Queue>,
    starts: &Counter,
    in_flight: &InFlight,
    run_for: Duration,
) -> WorkerHandle {
    let (s, t) = (starts.clone(), in_flight.clone());
    Worker::new(q)
        .handle("long", move |_job: Job| {
            let (s, t) = (s.clone(), t.clone());
            async move {
                s.bump();
                t.enter();
                let _leave = Leave(t);
                tokio::time::sleep(run_for).await;
                Ok::<(), JobError>(())
            }
        })
        .start()
        .unwrap()
}

/// The reproduction of issue #10 item 1: a 300 ms lease, a 2 s handler, the worker dropped
/// while it runs and a second worker started. Before the fix the dropped worker's handler
/// ran on without heartbeats; the lease ran out, the second worker claimed the job, and
/// both ran it at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_worker_never_runs_a_job_alongside_another() {
    let lease = Duration::from_millis(300);
    let memory = Arc::new(MemoryQueue::builder().lease_timeout(lease).build());
    let id = memory.enqueue(Job::new("long", json!(1))).await.unwrap();
    let (starts, in_flight) = (Counter::default(), InFlight::default());
    let run_for = Duration::from_secs(2);

    let dropped = long_worker(memory.clone(), &starts, &in_flight, run_for);
    wait_until("the job to start", WAIT, || async { starts.get() == 1 }).await;
    drop(dropped);

    let other = long_worker(memory.clone(), &starts, &in_flight, run_for);
    wait_until("the job to complete", WAIT, || async {
        memory.get_job(id).await.unwrap().unwrap().state == JobState::Completed
    })
    .await;
    other.shutdown(Duration::from_secs(5)).await;
    assert_eq!(in_flight.max(), 1, "the job ran twice at the same time");
    let job = memory.get_job(id).await.unwrap().unwrap();
    assert_eq!(
        job.attempts, 1,
        "the dropped worker's run was returned without using an attempt"
    );
}

/// Jobs of a running handler come back to the queue at once when the worker is dropped,
/// not after their lease runs out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_worker_returns_its_running_jobs_at_once() {
    // A lease far longer than the wait: a job left running would be seen as stuck.
    let memory = Arc::new(
        MemoryQueue::builder()
            .lease_timeout(Duration::from_secs(60))
            .build(),
    );
    let id = memory.enqueue(Job::new("long", json!(1))).await.unwrap();
    let (starts, in_flight) = (Counter::default(), InFlight::default());
    let dropped = long_worker(
        memory.clone(),
        &starts,
        &in_flight,
        Duration::from_secs(3600),
    );
    wait_until("the job to start", WAIT, || async { starts.get() == 1 }).await;
    drop(dropped);
    wait_until("the job to be back in the queue", WAIT, || async {
        memory.get_job(id).await.unwrap().unwrap().state == JobState::Pending
    })
    .await;
    let job = memory.get_job(id).await.unwrap().unwrap();
    assert_eq!(job.attempts, 0, "returning the job used an attempt");
}

/// Claims that take a job answer only once `release` is notified.
#[derive(Default)]
struct HeldClaims {
    /// Set once a claim has taken a job and waits to answer.
    holding: AtomicBool,
    release: Notify,
}

#[async_trait]
impl Hooks for HeldClaims {
    async fn claimed(&self, jobs: &[Job]) {
        if !jobs.is_empty() {
            let released = self.release.notified();
            self.holding.store(true, Ordering::SeqCst);
            released.await;
        }
    }
}

/// How a worker is stopped while its claim is in flight.
enum StopBy {
    Drop,
    Shutdown,
}

/// A job with a single attempt, claimed by a worker that is stopped before the claim
/// answers. Before the fix the claim was aborted: the job stayed claimed until its lease
/// ran out, then failed as "lease expired" without ever running. Now the claim is let
/// finish and its job returned, and the next worker runs it.
async fn claim_in_flight_is_not_lost(stop_by: StopBy) {
    let lease = Duration::from_secs(2);
    let memory = Arc::new(MemoryQueue::builder().lease_timeout(lease).build());
    let held = Arc::new(Intercepted::new(memory.clone(), HeldClaims::default()));
    let id = memory
        .enqueue(Job::new("long", json!(1)).max_attempts(1))
        .await
        .unwrap();
    let (starts, in_flight) = (Counter::default(), InFlight::default());
    let first = long_worker(held.clone(), &starts, &in_flight, Duration::ZERO);
    wait_until("the claim to take the job", WAIT, || async {
        held.hooks().holding.load(Ordering::SeqCst)
    })
    .await;
    match stop_by {
        StopBy::Drop => drop(first),
        StopBy::Shutdown => {
            first.shutdown(Duration::ZERO).await;
        }
    }
    held.hooks().release.notify_one();
    wait_until("the claimed job to be back in the queue", WAIT, || async {
        memory.get_job(id).await.unwrap().unwrap().state == JobState::Pending
    })
    .await;
    assert_eq!(starts.get(), 0, "the stopped worker ran the job");

    let second = long_worker(memory.clone(), &starts, &in_flight, Duration::ZERO);
    wait_until("the job to complete", WAIT, || async {
        memory.get_job(id).await.unwrap().unwrap().state == JobState::Completed
    })
    .await;
    second.shutdown(Duration::from_secs(5)).await;
    assert_eq!(starts.get(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_in_flight_when_the_worker_is_dropped_is_returned() {
    claim_in_flight_is_not_lost(StopBy::Drop).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_in_flight_at_shutdown_is_returned() {
    claim_in_flight_is_not_lost(StopBy::Shutdown).await;
}
