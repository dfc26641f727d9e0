//! The dashboard over a demo queue: a worker with metrics and a steady trickle of jobs of
//! which some fail, served without authentication on a loopback address.
//!
//! ```sh
//! cargo run -p queue-admin --example dashboard   # a MemoryQueue; open http://127.0.0.1:8080/
//! cargo run -p queue-admin --example dashboard -- sqlite:jobs.db   # or a SQL queue
//! cargo run -p queue-admin --example dashboard -- mysql://root@127.0.0.1:3306/test
//! ```
//!
//! With a SQL URL the jobs live in that database, so `queuectl --url sqlite:jobs.db serve
//! --token …` (from another terminal) shows the same queue. `ADMIN_BIND=127.0.0.1:9000`
//! picks another address.

use std::sync::Arc;
use std::time::Duration;

use queue_admin::{Admin, Auth, ServeOptions, Server};
use queue_core::{Backend, Job, JobError, Worker};
use queue_memory::MemoryQueue;
use queue_sql::{SqlOptions, SqlQueue};
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
    let queue: Arc<dyn Backend> = match std::env::args().nth(1) {
        Some(url) => Arc::new(
            SqlQueue::connect_with(
                &url,
                SqlOptions::default().keep_completed_for(Duration::from_secs(600)),
            )
            .await?,
        ),
        None => Arc::new(MemoryQueue::new()),
    };
    // Bound first: it installs the Prometheus recorder the worker's metrics go to.
    let bind = std::env::var("ADMIN_BIND").unwrap_or_else(|_| "127.0.0.1:8080".into());
    let options = ServeOptions::new(bind.parse()?, Auth::None);
    let server = Server::bind(Admin::new().queue("demo", queue.clone()), options).await?;

    let mut worker = Worker::new(queue.clone())
        .concurrency(8)
        .metrics()
        .gauges(queue.clone(), Duration::from_secs(5));
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

    println!("queue admin on http://{}/", server.local_addr());
    server.run().await?;
    Ok(())
}
