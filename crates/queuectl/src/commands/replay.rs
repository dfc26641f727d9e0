//! `replay`: moves failed jobs back to pending, attempts reset, due now: one by id, or
//! every failed job (of a kind) in bounded batches.

use clap::ArgGroup;
use queue_core::{JobFilter, JobId, JobState};
use serde::Serialize;

use super::Ctx;
use crate::cli::{after_help, parse_id};
use crate::error::CliError;
use crate::output;
use crate::progress::Progress;

/// Options of `replay`.
#[derive(clap::Args)]
#[command(
    group(ArgGroup::new("which").required(true).args(["id", "all_failed"])),
    after_help = after_help!(
        "  queuectl replay 01JDQ6ZP1V8G3XH9K2M4N5P6Q7\n  queuectl replay --all-failed --kind email\n  queuectl replay --all-failed --json    # {\"replayed\":42,\"skipped\":0}"
    )
)]
pub struct Args {
    /// The failed job to run again.
    #[arg(value_parser = parse_id, conflicts_with = "all_failed")]
    id: Option<JobId>,
    /// Replay every job that is failed now (newer failures are left for the next run).
    #[arg(long)]
    all_failed: bool,
    /// With --all-failed: only jobs of this kind.
    #[arg(long, requires = "all_failed")]
    kind: Option<String>,
    /// With --all-failed: jobs listed and replayed per batch.
    #[arg(long, default_value_t = 100, requires = "all_failed",
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    batch: u32,
}

/// One replayed job, as JSON.
#[derive(Serialize)]
struct Replayed {
    /// The job.
    id: JobId,
    /// Always `"replayed"`: a job that could not be replayed is an error.
    outcome: &'static str,
}

/// A bulk replay, as JSON.
#[derive(Serialize)]
struct Bulk {
    /// Jobs moved back to pending.
    replayed: u64,
    /// Jobs listed as failed that had left that state before their turn.
    skipped: u64,
}

/// Replays the job, or every failed job.
pub async fn run(ctx: &Ctx, args: Args) -> Result<(), CliError> {
    match args.id {
        Some(id) => one(ctx, id).await,
        None => all(ctx, &args).await,
    }
}

/// Replays one job; explains why when it is not failed.
async fn one(ctx: &Ctx, id: JobId) -> Result<(), CliError> {
    let replayed = ctx
        .queue
        .replay(id)
        .await
        .map_err(|e| CliError::from(e).context("replay"))?;
    if !replayed {
        let job = ctx.job("replay", id).await?;
        return Err(CliError::failed(format!(
            "replay: job {id} is {}, not failed (only failed jobs are replayed)",
            job.state
        )));
    }
    if ctx.json {
        return output::json(&Replayed {
            id,
            outcome: "replayed",
        });
    }
    output::line(&format!(
        "replayed job {id}: pending again, due now, attempts reset"
    ))
}

/// Pages through the failed jobs, oldest page last, replaying each; a job failing again
/// meanwhile keeps its id, which the cursor has passed, so it is not replayed twice.
async fn all(ctx: &Ctx, args: &Args) -> Result<(), CliError> {
    let batch = usize::try_from(args.batch).unwrap_or(usize::MAX);
    let mut filter = JobFilter::new().state(JobState::Failed).limit(batch);
    filter.kind = args.kind.clone();
    let total = match &args.kind {
        Some(_) => None,
        None => Some(
            ctx.queue
                .stats()
                .await
                .map_err(|e| CliError::from(e).context("replay"))?
                .failed,
        ),
    };
    let progress = Progress::new(ctx.json, total, "replaying");
    let mut done = Bulk {
        replayed: 0,
        skipped: 0,
    };
    let result = replay_pages(ctx, &mut filter, batch, &progress, &mut done).await;
    progress.finish();
    result.map_err(|e| {
        CliError::from(e).context(&format!(
            "replay: stopped after replaying {} jobs",
            done.replayed
        ))
    })?;
    if ctx.json {
        return output::json(&done);
    }
    let of_kind = args
        .kind
        .as_ref()
        .map(|k| format!(" of kind {k}"))
        .unwrap_or_default();
    let mut text = format!("replayed {} failed jobs{of_kind}", done.replayed);
    if done.skipped > 0 {
        text.push_str(&format!(
            " ({} left the failed state before their turn)",
            done.skipped
        ));
    }
    output::line(&text)
}

/// The batches of [`all`], counting into `done` as they go.
async fn replay_pages(
    ctx: &Ctx,
    filter: &mut JobFilter,
    batch: usize,
    progress: &Progress,
    done: &mut Bulk,
) -> queue_core::Result<()> {
    loop {
        let page = ctx.queue.list(filter).await?;
        for job in &page {
            if ctx.queue.replay(job.id).await? {
                done.replayed += 1;
            } else {
                done.skipped += 1;
            }
            progress.advance(1);
        }
        match page.last() {
            Some(last) if page.len() >= batch => filter.before = Some(last.id),
            _ => return Ok(()),
        }
    }
}
