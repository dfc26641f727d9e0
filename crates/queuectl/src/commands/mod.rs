//! The subcommands, one module each. A command gets the opened queue in a [`Ctx`] and
//! writes its result through [`crate::output`]; `migrate` opens the queue itself.

mod cancel;
mod delete;
mod enqueue;
mod get;
mod limit;
mod list;
mod migrate;
mod pause;
mod paused;
mod purge;
mod replay;
mod resume;
mod run_now;
mod serve;
mod stats;
mod watch;

use std::sync::Arc;

use clap::Subcommand;
use queue_core::{Backend, Job, JobId};

use crate::cli::Cli;
use crate::error::CliError;
use crate::open::open_existing;
use crate::target::Location;

/// What to do.
#[derive(Subcommand)]
pub enum Command {
    /// Count the jobs in each state, and list the paused kinds.
    Stats(stats::Args),
    /// List jobs, newest first, a page at a time.
    List(list::Args),
    /// Show one job, with its payload and output.
    Get(get::Args),
    /// Run failed jobs again: one by id, or every failed job (of a kind).
    Replay(replay::Args),
    /// Cancel a job: a pending one at once, a running one by asking its worker.
    Cancel(cancel::Args),
    /// Make a job scheduled for later due now.
    RunNow(run_now::Args),
    /// Delete one finished (completed, failed or cancelled) job.
    Delete(delete::Args),
    /// Add a job; prints its id.
    Enqueue(enqueue::Args),
    /// Stop every worker, in every process, from claiming jobs of a kind.
    Pause(pause::Args),
    /// Let workers claim jobs of a paused kind again.
    Resume(resume::Args),
    /// List the paused kinds.
    Paused(paused::Args),
    /// Limit how many jobs of a kind run at once or start per period, across every worker
    /// (per concurrency key too); clear a limit; or list the limits.
    Limit(limit::Args),
    /// Delete finished jobs older than a given age, in batches.
    Purge(purge::Args),
    /// Create the queue's SQL table, or bring its schema up to date.
    Migrate(migrate::Args),
    /// Show live counts, rates and the oldest due job's wait, until Ctrl-C.
    Watch(watch::Args),
    /// Serve the web dashboard and its JSON API (and Prometheus gauges at /metrics),
    /// until Ctrl-C.
    Serve(serve::Args),
}

/// What every command that works on an open queue gets.
pub struct Ctx {
    /// The queue.
    pub queue: Arc<dyn Backend>,
    /// Where it is (for messages; its label never shows the password).
    pub location: Location,
    /// `--json`: machine-readable output, no progress bars.
    pub json: bool,
}

impl Ctx {
    /// The job `id`, or the error `command` reports when there is none.
    pub async fn job(&self, command: &str, id: JobId) -> Result<Job, CliError> {
        self.queue
            .get_job(id)
            .await
            .map_err(|e| CliError::from(e).context(command))?
            .ok_or_else(|| CliError::no_job(command, id))
    }
}

/// Opens the queue the command line names and runs the command on it.
pub async fn run(cli: Cli) -> Result<(), CliError> {
    let location = Location::from_args(&cli.target)?;
    match cli.command {
        // Opening would migrate first; migrate reads the schema before and after.
        Command::Migrate(args) => migrate::run(&location, cli.json, args).await,
        command => {
            let ctx = Ctx {
                queue: open_existing(&location).await?,
                location,
                json: cli.json,
            };
            on_queue(&ctx, command).await
        }
    }
}

/// Runs `command` on the open queue.
async fn on_queue(ctx: &Ctx, command: Command) -> Result<(), CliError> {
    match command {
        Command::Stats(args) => stats::run(ctx, args).await,
        Command::List(args) => list::run(ctx, args).await,
        Command::Get(args) => get::run(ctx, args).await,
        Command::Replay(args) => replay::run(ctx, args).await,
        Command::Cancel(args) => cancel::run(ctx, args).await,
        Command::RunNow(args) => run_now::run(ctx, args).await,
        Command::Delete(args) => delete::run(ctx, args).await,
        Command::Enqueue(args) => enqueue::run(ctx, args).await,
        Command::Pause(args) => pause::run(ctx, args).await,
        Command::Resume(args) => resume::run(ctx, args).await,
        Command::Paused(args) => paused::run(ctx, args).await,
        Command::Limit(args) => limit::run(ctx, args).await,
        Command::Purge(args) => purge::run(ctx, args).await,
        Command::Watch(args) => watch::run(ctx, args).await,
        Command::Serve(args) => serve::run(ctx, args).await,
        Command::Migrate(args) => migrate::run(&ctx.location, ctx.json, args).await,
    }
}
