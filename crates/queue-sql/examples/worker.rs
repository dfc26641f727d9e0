//! A worker process: runs the `receipt` jobs of a Postgres queue until SIGTERM or Ctrl-C,
//! then lets running jobs finish (up to 30 s) and hands the rest back to the queue.
//!
//! ```sh
//! cargo run -p queue-sql --example worker   # DATABASE_URL, else the local test database
//! kill -TERM <pid>                          # or Ctrl-C: a graceful stop
//! ```
//!
//! `axum_enqueue_tx` (same directory) enqueues the jobs; under a process manager
//! (systemd, Kubernetes) give the process a stop timeout longer than the 30 s here. The
//! handler records each receipt in the app's own table through the pool it gets as
//! `Data<PgPool>`.

use std::sync::Arc;
use std::time::Duration;

use queue_core::{Data, JobArgs, JobContext, JobError, Worker};
use queue_sql::sqlx::{self, PgPool};
use queue_sql::{SqlOptions, SqlQueue};
use serde::{Deserialize, Serialize};

/// What `axum_enqueue_tx` enqueues.
#[derive(Serialize, Deserialize, JobArgs)]
#[job(kind = "receipt", max_attempts = 5)]
struct Receipt {
    order: i64,
    email: String,
}

async fn send_receipt(receipt: Receipt, ctx: JobContext, db: Data<PgPool>) -> Result<(), JobError> {
    println!(
        "receipt for order {} to {} (attempt {})",
        receipt.order,
        receipt.email,
        ctx.attempt()
    );
    // Stand-in for the mail call. Long work should watch the token: it fires on shutdown.
    tokio::select! {
        _ = tokio::time::sleep(Duration::from_millis(200)) => {}
        _ = ctx.cancelled() => return Err(JobError::retry("stopped before the mail went out")),
    }
    // A failed write is an error like any other: the job is retried with backoff.
    sqlx::query("UPDATE example_orders SET receipt_sent_at = now() WHERE id = $1")
        .bind(receipt.order)
        .execute(&*db)
        .await
        .map_err(|e| JobError::retry(e.to_string()))?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let pool = PgPool::connect(&url).await?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS example_orders \
         (id BIGSERIAL PRIMARY KEY, email TEXT NOT NULL, total_cents BIGINT NOT NULL)",
    )
    .execute(&pool)
    .await?;
    sqlx::query("ALTER TABLE example_orders ADD COLUMN IF NOT EXISTS receipt_sent_at timestamptz")
        .execute(&pool)
        .await?;
    // The queue and the handlers share the app's pool.
    let queue = Arc::new(SqlQueue::from_pg_pool(pool.clone(), SqlOptions::default()).await?);

    let worker = Worker::new(queue)
        .data(pool)
        .handle_typed(send_receipt)
        .concurrency(16)
        .start()?;
    println!(
        "worker {} running; SIGTERM or Ctrl-C stops it",
        std::process::id()
    );

    let report = worker.shutdown_on_signal(Duration::from_secs(30)).await;
    println!(
        "stopped: {} running jobs finished, {} returned to the queue",
        report.finished, report.returned
    );
    Ok(())
}
