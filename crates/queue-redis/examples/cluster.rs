//! A queue on Redis Cluster: every key of a queue carries the `{name}` hash tag, so the
//! whole queue lives on one slot and each Lua script touches one node.
//!
//! ```sh
//! # A local 3-master cluster (ports 7000-7002), if you have none:
//! for p in 7000 7001 7002; do
//!   redis-server --port $p --cluster-enabled yes --cluster-config-file nodes-$p.conf \
//!     --save '' --appendonly no --daemonize yes
//! done
//! redis-cli --cluster create 127.0.0.1:7000 127.0.0.1:7001 127.0.0.1:7002 --cluster-yes
//!
//! cargo run -p queue-redis --example cluster
//! REDIS_CLUSTER_NODES=10.0.0.5:6379,10.0.0.6:6379 cargo run -p queue-redis --example cluster
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use queue_core::{Browsable, Job, JobError, Queue, Worker};
use queue_redis::RedisQueue;
use serde_json::json;

const JOBS: usize = 1_000;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let nodes = std::env::var("REDIS_CLUSTER_NODES")
        .unwrap_or_else(|_| "127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002".into());
    // Seed nodes only: the client learns the rest of the cluster and follows slot moves.
    let queue = RedisQueue::builder("cluster-example")
        .cluster(nodes.split(',').map(str::trim))
        .build()
        .await?;
    let queue = Arc::new(queue);
    println!("queue keys: {}*", queue.key_prefix());

    let jobs = (0..JOBS)
        .map(|n| Job::new("ping", json!({ "n": n })))
        .collect();
    queue.enqueue_batch(jobs).await?;

    let started = Instant::now();
    let worker = Worker::new(queue.clone())
        .handle("ping", |_job: Job| async { Ok::<(), JobError>(()) })
        .concurrency(32)
        .start()?;
    // Wait for the drain with a deadline, reading the counts the backend keeps.
    let deadline = started + Duration::from_secs(60);
    loop {
        let stats = queue.stats().await?;
        if stats.pending + stats.running == 0 {
            break;
        }
        if Instant::now() > deadline {
            return Err(format!("not drained after 60 s: {stats:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    worker.shutdown(Duration::from_secs(5)).await;
    println!("{JOBS} jobs through the cluster in {:?}", started.elapsed());

    // The example's keys go; a real queue keeps them.
    queue.drop_all().await?;
    Ok(())
}
