//! The dashboard over a demo queue: a `MemoryQueue`, a worker, and a steady trickle of jobs
//! of which some fail, served without authentication on a loopback address.
//!
//! ```sh
//! cargo run -p queue-admin --example dashboard   # then open http://127.0.0.1:8080/
//! ```
//!
//! `ADMIN_BIND=127.0.0.1:9000` picks another address.

use std::sync::Arc;
use std::time::Duration;

use queue_admin::{Admin, Auth, ServeOptions};
use queue_core::{Job, JobError, Queue, Worker};
use queue_memory::MemoryQueue;
use serde_json::{json, Value};

const KINDS: [&str; 4] = [
    "email.send",
    "invoice.render",
    "webhook.deliver",
    "payment.capture",
];

/// Takes a little while; about one job in eight fails its attempt.
async fn work(job: Job) -> Result<Value, JobError> {
    let [.., last] = job.id.to_bytes();
    tokio::time::sleep(Duration::from_millis(20 + u64::from(last % 8) * 40)).await;
    if last % 8 == 0 {
        return Err(JobError::retry("upstream answered 503 Service Unavailable"));
    }
    Ok(json!({"done": job.kind, "attempt": job.attempts}))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let queue = Arc::new(MemoryQueue::new());
    let mut worker = Worker::new(queue.clone()).concurrency(8);
    for kind in KINDS {
        worker = worker.handle(kind, work);
    }
    let _worker = worker.start()?;

    let producer = queue.clone();
    tokio::spawn(async move {
        for round in 0u64.. {
            let kind = KINDS[usize::try_from(round % 4).unwrap_or(0)];
            let mut job = Job::new(kind, json!({"round": round})).max_attempts(2);
            if round % 10 == 0 {
                job = job.delay(Duration::from_secs(600));
            }
            if producer.enqueue(job).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(150 + (round % 5) * 60)).await;
        }
    });

    let bind = std::env::var("ADMIN_BIND").unwrap_or_else(|_| "127.0.0.1:8080".into());
    let options = ServeOptions::new(bind.parse()?, Auth::None);
    println!("queue admin on http://{bind}/");
    queue_admin::serve(Admin::new().queue("demo", queue), options).await?;
    Ok(())
}
