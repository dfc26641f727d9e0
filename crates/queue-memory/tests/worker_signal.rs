//! `WorkerHandle::shutdown_on_signal`: SIGTERM shuts the worker down gracefully. In a
//! binary of its own, as signals reach the whole process.
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use queue_core::{Browsable, Job, JobContext, Queue, ShutdownReport, Worker};
use queue_memory::MemoryQueue;
use queue_testkit::support::{wait_until, Counter};
use serde_json::json;
use tokio::signal::unix::{signal, SignalKind};

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_shuts_the_worker_down() {
    // Listening first keeps SIGTERM from ending the test process.
    let mut term = signal(SignalKind::terminate()).unwrap();
    let queue = Arc::new(MemoryQueue::new());
    queue.enqueue(Job::new("long", json!(1))).await.unwrap();
    let started = Counter::default();
    let s = started.clone();
    let worker = Worker::new(queue.clone())
        .handle("long", move |_job: Job, ctx: JobContext| {
            let s = s.clone();
            async move {
                s.bump();
                ctx.cancelled().await;
                Ok(())
            }
        })
        .start()
        .unwrap();
    wait_until("the job to start", WAIT, || async { started.get() == 1 }).await;
    let shutdown = tokio::spawn(worker.shutdown_on_signal(Duration::from_millis(100)));
    // The worker's listener may not be in place yet: signal until it has shut down.
    let deadline = tokio::time::Instant::now() + WAIT;
    while !shutdown.is_finished() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the worker did not shut down on SIGTERM"
        );
        let pid = std::process::id().to_string();
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        assert!(status.success());
        tokio::time::timeout(WAIT, term.recv())
            .await
            .expect("SIGTERM was not delivered");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let report = shutdown.await.unwrap();
    assert_eq!(
        report,
        ShutdownReport {
            finished: 1,
            returned: 0
        },
        "the handler saw its token and completed"
    );
    assert_eq!(queue.stats().await.unwrap().completed, 1);
}
