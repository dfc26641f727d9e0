//! Two scheduler replicas with the same schedule against one Postgres queue: each tick is
//! enqueued once, however many replicas fire it. Here both run in one process, each with
//! its own connection pool, as two deployments of a service would.
//!
//! ```sh
//! cargo run -p queue-scheduler --example replicas   # DATABASE_URL, else the local test database
//! ```

use std::sync::Arc;
use std::time::Duration;

use queue_core::{Browsable, JobFilter, JobState};
use queue_scheduler::Scheduler;
use queue_sql::{SqlOptions, SqlQueue};
use serde_json::json;

const TABLE: &str = "scheduler_example_jobs";

async fn replica(url: &str) -> Result<(Arc<SqlQueue>, Scheduler), Box<dyn std::error::Error>> {
    let queue = Arc::new(SqlQueue::connect_with(url, SqlOptions::default().table(TABLE)).await?);
    let scheduler = Scheduler::for_queue(queue.clone());
    // Identical registrations get the same schedule id, so their ticks share unique keys.
    scheduler
        .every(Duration::from_secs(2))
        .job("report.refresh", json!({ "region": "eu" }))
        .register()?;
    Ok((queue, scheduler))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let (queue, a) = replica(&url).await?;
    let (_, b) = replica(&url).await?;
    let (a, b) = (a.start()?, b.start()?);

    println!("two replicas firing every 2 s; watching for 11 s");
    tokio::time::sleep(Duration::from_secs(11)).await;
    a.stop().await;
    b.stop().await;

    // No worker runs here, so every fired job is still pending: one per tick.
    let mut jobs = queue
        .list(&JobFilter::new().state(JobState::Pending))
        .await?;
    jobs.sort_by_key(|job| job.scheduled_at);
    for job in &jobs {
        println!("{}  {}  tick {}", job.id, job.kind, job.scheduled_at);
    }
    let mut ticks: Vec<_> = jobs.iter().map(|job| job.scheduled_at).collect();
    ticks.dedup();
    println!("{} jobs for {} ticks", jobs.len(), ticks.len());

    queue.drop_schema().await?;
    Ok(())
}
