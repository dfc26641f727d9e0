//! A fixed workload for instruction counts (`valgrind --tool=callgrind`): bulk enqueue
//! of no-op jobs, then (with `drain`) running them all on a Worker.
//!
//! ```text
//! cargo build --release -p queue-memory --example profile
//! valgrind --tool=callgrind target/release/examples/profile enqueue 100000
//! valgrind --tool=callgrind target/release/examples/profile drain 100000
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use queue_core::{Job, Queue, Worker};
use queue_memory::MemoryQueue;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = args.first().map_or("drain", String::as_str).to_string();
    let jobs: usize = args
        .get(1)
        .map_or(100_000, |n| n.parse().expect("a job count"));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let q = Arc::new(MemoryQueue::builder().keep_last_completed(0).build());
        let t0 = Instant::now();
        let mut left = jobs;
        while left > 0 {
            let k = left.min(1_000);
            q.enqueue_batch(
                (0..k)
                    .map(|_| Job::new("bench", serde_json::Value::Null))
                    .collect(),
            )
            .await
            .unwrap();
            left -= k;
        }
        let enq = t0.elapsed();
        println!("enqueue: {:.0} jobs/s", jobs as f64 / enq.as_secs_f64());
        if mode != "drain" {
            return;
        }
        let t0 = Instant::now();
        let worker = Worker::new(q.clone())
            .handle("bench", |_job: Job| async { Ok(()) })
            .concurrency(64)
            .start()
            .unwrap();
        while worker.stats().completed < jobs as u64 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        println!(
            "drain: {:.0} jobs/s",
            jobs as f64 / t0.elapsed().as_secs_f64()
        );
        worker.shutdown(Duration::from_secs(5)).await;
    });
}
