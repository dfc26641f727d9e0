//! Enqueues a few thousand jobs into a MemoryQueue, runs them on a Worker, and prints what
//! happened and how fast.
//!
//! ```text
//! cargo run --release -p queue-memory --example demo
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use queue_core::{Browsable, Job, JobArgs, JobError, JobState, Queue, RetryPolicy, Worker};
use queue_memory::MemoryQueue;
use serde::{Deserialize, Serialize};

/// A typed job: its kind travels with the type.
#[derive(Serialize, Deserialize)]
struct Resize {
    image: u32,
}

impl JobArgs for Resize {
    const KIND: &'static str = "resize";
}

const EMAILS: u32 = 5_000;
const RESIZES: u32 = 2_000;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let queue = Arc::new(
        MemoryQueue::builder()
            .retry(RetryPolicy::exponential(
                Duration::from_millis(10),
                Duration::from_millis(100),
            ))
            .build(),
    );

    let t0 = Instant::now();
    let mut batch = Vec::new();
    for i in 0..EMAILS {
        batch.push(Job::new("email", serde_json::json!({ "n": i })).priority((i % 3) as i32));
    }
    queue.enqueue_batch(batch).await?;
    for image in 0..RESIZES {
        queue.enqueue(Resize { image }.to_job()?).await?;
    }
    queue
        .enqueue(Job::new(
            "email",
            serde_json::json!({ "n": "not a number" }),
        ))
        .await?;
    let enqueued = t0.elapsed();
    println!(
        "enqueued {} jobs in {:.1} ms",
        EMAILS + RESIZES + 1,
        enqueued.as_secs_f64() * 1e3
    );

    let resized = Arc::new(AtomicU64::new(0));
    let counter = resized.clone();
    let t1 = Instant::now();
    let worker = Worker::new(queue.clone())
        .handle("email", send_email)
        .handle_typed(move |r: Resize| {
            let counter = counter.clone();
            async move {
                let _ = r.image;
                counter.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
        })
        .concurrency(16)
        .limit("resize", 4)
        .start()?;

    // Wait until nothing is pending or running.
    loop {
        let s = queue.stats().await?;
        if s.pending == 0 && s.running == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let ran = t1.elapsed();
    let counts = worker.stats();
    let report = worker.shutdown(Duration::from_secs(5)).await;
    let stats = queue.stats().await?;

    println!(
        "ran them in {:.1} ms ({:.0} jobs/s)",
        ran.as_secs_f64() * 1e3,
        f64::from(EMAILS + RESIZES + 1) / ran.as_secs_f64()
    );
    println!(
        "resize handler ran {} times",
        resized.load(Ordering::Relaxed)
    );
    println!(
        "worker: {} claims, {} completed, {} retried, {} discarded",
        counts.claimed, counts.completed, counts.retried, counts.discarded
    );
    println!("queue stats (keeps the last 1,000 completed): {stats:?}");
    println!("worker shutdown: {report:?}");
    for job in queue.list_jobs(Some(JobState::Failed), 10).await? {
        println!(
            "failed: {} {} after {} attempt(s): {}",
            job.id,
            job.kind,
            job.attempts,
            job.last_error.unwrap_or_default()
        );
    }
    Ok(())
}

async fn send_email(job: Job) -> Result<(), JobError> {
    #[derive(Deserialize)]
    struct Email {
        n: u32,
    }
    let email: Email = job
        .args()
        .map_err(|e| JobError::discard(format!("bad payload: {e}")))?;
    // The first attempt of every 500th email fails; the retry succeeds.
    if email.n % 500 == 0 && job.attempts == 1 {
        return Err(JobError::retry("smtp server busy"));
    }
    Ok(())
}
