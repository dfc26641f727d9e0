//! A handler that ends just as shutdown stops it gets exactly one of "its result
//! recorded" or "its job returned to the queue". Before the fix shutdown took the job out
//! of the running set and returned it, and the handler's result, arriving a moment later,
//! was dropped: the job ran again although it had finished.
//!
//! The moment is made deterministic by a handler whose last step (dropping a guard) blocks
//! its thread: the handler has finished its work, but its task has not yet handed its
//! result over when the zero-timeout shutdown runs on the other thread.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use queue_core::{Browsable, Job, JobError, JobState, Queue, Worker};
use queue_memory::MemoryQueue;
use queue_testkit::support::wait_until;
use serde_json::json;

const WAIT: Duration = Duration::from_secs(10);
/// How long the guard holds the handler's task at most. Only a bound: with the fix,
/// shutdown waits for the task, so the guard must give up on its own.
const HOLD: Duration = Duration::from_secs(2);

/// Blocks its thread when dropped, until `release` is set or `HOLD` has passed.
struct Hold(Arc<AtomicBool>);

impl Drop for Hold {
    fn drop(&mut self) {
        let until = Instant::now() + HOLD;
        while !self.0.load(Ordering::SeqCst) && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_finishing_as_shutdown_stops_it_is_settled_exactly_once() {
    let memory = Arc::new(MemoryQueue::new());
    let id = memory.enqueue(Job::new("k", json!(1))).await.unwrap();
    let finished = Arc::new(AtomicBool::new(false));
    let release = Arc::new(AtomicBool::new(false));
    let (f, r) = (finished.clone(), release.clone());
    let worker = Worker::new(memory.clone())
        .handle("k", move |_job: Job| {
            let (f, r) = (f.clone(), r.clone());
            async move {
                let _hold = Hold(r);
                // The work is done; only the guard's drop is left.
                f.store(true, Ordering::SeqCst);
                Ok::<(), JobError>(())
            }
        })
        .start()
        .unwrap();
    wait_until("the handler to finish its work", WAIT, || async {
        finished.load(Ordering::SeqCst)
    })
    .await;
    let report = worker.shutdown(Duration::ZERO).await;
    release.store(true, Ordering::SeqCst);
    // The handler finished: its result must be recorded, not the job returned to run again.
    wait_until(
        "the finished job to be recorded as completed",
        WAIT,
        || async {
            let state = memory.get_job(id).await.unwrap().unwrap().state;
            assert_ne!(
                state,
                JobState::Pending,
                "the handler finished, yet its result was dropped and the job returned to the \
             queue ({report:?})"
            );
            state == JobState::Completed
        },
    )
    .await;
}
