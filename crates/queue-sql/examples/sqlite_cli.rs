//! SQLite in a command-line tool: jobs queued by one run are done by a later one, from a
//! file next to the tool. No server, and nothing keeps running between commands.
//!
//! ```sh
//! cargo run -p queue-sql --example sqlite_cli -- add photo.jpg
//! cargo run -p queue-sql --example sqlite_cli -- add cat.png --in 10   # due in 10 s
//! cargo run -p queue-sql --example sqlite_cli -- status
//! cargo run -p queue-sql --example sqlite_cli -- run        # does what is due, then exits
//! ```
//!
//! `QUEUE_FILE` picks the file (default `cli-jobs.db`); `queuectl --url sqlite:cli-jobs.db`
//! shows the same queue.

use std::sync::Arc;
use std::time::Duration;

use queue_core::{Browsable, Job, JobError, Queue, Worker};
use queue_sql::SqlQueue;
use serde_json::json;

const USAGE: &str = "usage: sqlite_cli add FILE [--in SECONDS] | status | run";

async fn thumbnail(job: Job) -> Result<String, JobError> {
    let file: String = serde_json::from_value(job.payload["file"].clone())
        .map_err(|_| JobError::discard("the job names no file"))?;
    // Stand-in for the real work; the returned text is stored as the job's output.
    Ok(format!("thumbs/{file}"))
}

fn usage() -> ! {
    eprintln!("{USAGE}");
    std::process::exit(2)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let file = std::env::var("QUEUE_FILE").unwrap_or_else(|_| "cli-jobs.db".into());
    // Creates the file and the table on first use.
    let queue = Arc::new(SqlQueue::connect(&format!("sqlite:{file}")).await?);
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();

    match args.as_slice() {
        ["add", file, rest @ ..] => {
            let mut job = Job::new("thumbnail", json!({ "file": file }));
            match rest {
                [] => {}
                ["--in", seconds] => job = job.delay(Duration::from_secs(seconds.parse()?)),
                _ => usage(),
            }
            println!("queued {}", queue.enqueue(job).await?);
        }
        ["status"] => {
            let stats = queue.stats().await?;
            println!(
                "pending {}, running {}, completed {}, failed {}",
                stats.pending, stats.running, stats.completed, stats.failed
            );
        }
        ["run"] => {
            // Runs what is due now, then returns: the shape of a cron job or a CLI.
            let report = Worker::new(queue.clone())
                .handle("thumbnail", thumbnail)
                .run_until_idle()
                .await?;
            for run in &report.jobs {
                println!(
                    "{} {} attempt {}: {:?}",
                    run.id, run.kind, run.attempt, run.outcome
                );
            }
            println!("{} completed, {} failed", report.completed, report.failed);
        }
        _ => usage(),
    }
    Ok(())
}
