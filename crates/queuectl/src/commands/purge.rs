//! `purge`: deletes finished jobs of one state older than an age, in batches, after asking
//! on a terminal.

use std::io::{BufRead, IsTerminal, Write};
use std::time::Duration;

use queue_core::JobState;
use serde::Serialize;

use super::Ctx;
use crate::cli::{after_help, parse_final_state};
use crate::error::CliError;
use crate::progress::Progress;
use crate::{duration, output};

/// Options of `purge`.
#[derive(clap::Args)]
#[command(after_help = after_help!(
    "  queuectl purge --state completed --older-than 7d\n  queuectl purge --state failed --older-than 30d --yes --json    # {\"state\":\"failed\",\"older_than_secs\":2592000,\"deleted\":120}\n\nOn a terminal it asks before deleting anything, unless --yes; from a script (stdin not a terminal) it does not ask."
))]
pub struct Args {
    /// Which finished jobs: completed, failed or cancelled.
    #[arg(long, value_parser = parse_final_state)]
    state: JobState,
    /// Only jobs that finished longer ago than this (30m, 12h, 7d).
    #[arg(long, value_parser = duration::parse)]
    older_than: Duration,
    /// Do not ask for confirmation.
    #[arg(long, short)]
    yes: bool,
    /// Jobs deleted per batch (one short statement or script call each).
    #[arg(long, default_value_t = 1_000, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    batch: u32,
}

/// What purge did, as JSON.
#[derive(Serialize)]
struct Purged {
    /// The state purged.
    state: JobState,
    /// The age limit, in seconds.
    older_than_secs: u64,
    /// Jobs deleted.
    deleted: u64,
}

/// Asks (on a terminal), then purges batch after batch until a batch comes back short.
pub async fn run(ctx: &Ctx, args: Args) -> Result<(), CliError> {
    let stats = ctx
        .queue
        .stats()
        .await
        .map_err(|e| CliError::from(e).context("purge"))?;
    let age = duration::format(args.older_than);
    if !args.yes && std::io::stdin().is_terminal() {
        let question = format!(
            "Delete the {} jobs that finished more than {age} ago from {}? ({} {} jobs in all) \
             [y/N] ",
            args.state,
            ctx.location.label(),
            stats.get(args.state),
            args.state
        );
        if !confirm(&question)? {
            return Err(CliError::failed("purge: not confirmed, nothing deleted"));
        }
    }
    let progress = Progress::new(ctx.json, Some(stats.get(args.state)), "purging");
    let mut deleted = 0;
    let result = purge_batches(ctx, &args, &progress, &mut deleted).await;
    progress.finish();
    result.map_err(|e| {
        CliError::from(e).context(&format!("purge: stopped after deleting {deleted} jobs"))
    })?;
    if ctx.json {
        return output::json(&Purged {
            state: args.state,
            older_than_secs: args.older_than.as_secs(),
            deleted,
        });
    }
    output::line(&format!(
        "deleted {deleted} {} jobs that finished more than {age} ago",
        args.state
    ))
}

/// The batches, counting into `deleted` as they go.
async fn purge_batches(
    ctx: &Ctx,
    args: &Args,
    progress: &Progress,
    deleted: &mut u64,
) -> queue_core::Result<()> {
    let batch = usize::try_from(args.batch).unwrap_or(usize::MAX);
    loop {
        let n = ctx.queue.purge(args.state, args.older_than, batch).await?;
        *deleted += n;
        progress.advance(n);
        if n < u64::from(args.batch) {
            return Ok(());
        }
    }
}

/// Asks `question` on stderr; true for an answer starting with y.
fn confirm(question: &str) -> Result<bool, CliError> {
    let mut err = std::io::stderr().lock();
    let _ = err
        .write_all(question.as_bytes())
        .and_then(|()| err.flush());
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| CliError::failed(format!("purge: cannot read the answer: {e}")))?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}
