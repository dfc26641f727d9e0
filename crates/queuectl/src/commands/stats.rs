//! `stats`: how many jobs are in each state, which kinds are paused, and the limited
//! kinds with their running and held-back jobs.

use queue_core::JobState;

use super::Ctx;
use crate::cli::after_help;
use crate::error::CliError;
use crate::output::{self, Table};

/// Options of `stats` (none of its own).
#[derive(clap::Args)]
#[command(after_help = after_help!(
    "  queuectl stats\n  queuectl stats --json    # {\"pending\":12,\"running\":3,\"completed\":40,\"failed\":2,\"cancelled\":0,\"paused\":[],\"limits\":[]}"
))]
pub struct Args {}

/// Prints the counts: a table, or the queue's `Stats` as JSON.
pub async fn run(ctx: &Ctx, _args: Args) -> Result<(), CliError> {
    let stats = ctx
        .queue
        .stats()
        .await
        .map_err(|e| CliError::from(e).context("stats"))?;
    if ctx.json {
        return output::json(&stats);
    }
    let mut table = Table::new(&["STATE", "JOBS"]).align_right(&[1]);
    for state in JobState::ALL {
        table.row(vec![state.to_string(), stats.get(state).to_string()]);
    }
    let paused = if stats.paused.is_empty() {
        "none".to_owned()
    } else {
        stats.paused.join(", ")
    };
    let mut text = format!("{}\npaused kinds: {paused}\n", table.render());
    if stats.limits.is_empty() {
        text.push_str("limited kinds: none\n");
    } else {
        let mut limits =
            Table::new(&["LIMITED KIND", "LIMIT", "RUNNING", "WAITING"]).align_right(&[2, 3]);
        for l in &stats.limits {
            limits.row(vec![
                l.kind.clone(),
                l.limit.to_string(),
                l.running.to_string(),
                l.waiting.to_string(),
            ]);
        }
        text.push('\n');
        text.push_str(&limits.render());
    }
    output::write_out(text.as_bytes())
}
