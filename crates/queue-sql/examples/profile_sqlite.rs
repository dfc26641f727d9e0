//! A fixed workload for instruction counts (`valgrind --tool=callgrind`) on SQLite: bulk
//! enqueue of no-op jobs into a fresh file, then (with `drain`) running them all on a
//! Worker of 64. Counts for two job counts, subtracted, give the cost per job without the
//! start-up (opening the file, the migrations, preparing statements).
//!
//! ```text
//! cargo build --release -p queue-sql --example profile_sqlite
//! valgrind --tool=callgrind target/release/examples/profile_sqlite drain 2000
//! valgrind --tool=callgrind target/release/examples/profile_sqlite drain 6000
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use queue_core::{Job, Queue, Worker};
use queue_sql::SqlQueue;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = args.first().map_or("drain", String::as_str).to_string();
    let jobs: usize = args
        .get(1)
        .map_or(6_000, |n| n.parse().expect("a job count"));
    let file = std::env::temp_dir().join(format!("profile-{}.db", std::process::id()));
    let file = file
        .to_str()
        .expect("a UTF-8 temporary directory")
        .to_string();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let q = Arc::new(SqlQueue::connect(&format!("sqlite:{file}")).await.unwrap());
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
        if mode == "drain" {
            let worker = Worker::new(q.clone())
                .handle("bench", |_job: Job| async { Ok(()) })
                .concurrency(64)
                .start()
                .unwrap();
            while worker.stats().completed < jobs as u64 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            worker.shutdown(Duration::from_secs(5)).await;
        }
    });
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{file}{suffix}"));
    }
}
