//! `paused`: the kinds paused in the backend.

use serde::Serialize;

use super::Ctx;
use crate::cli::after_help;
use crate::error::CliError;
use crate::output;

/// Options of `paused` (none of its own).
#[derive(clap::Args)]
#[command(after_help = after_help!(
    "  queuectl paused\n  queuectl paused --json    # {\"paused\":[\"email\"]}"
))]
pub struct Args {}

/// The paused kinds, as JSON.
#[derive(Serialize)]
struct Paused {
    /// Sorted.
    paused: Vec<String>,
}

/// Prints the paused kinds, one a line.
pub async fn run(ctx: &Ctx, _args: Args) -> Result<(), CliError> {
    let paused = ctx
        .queue
        .paused_kinds()
        .await
        .map_err(|e| CliError::from(e).context("paused"))?;
    if ctx.json {
        return output::json(&Paused { paused });
    }
    if paused.is_empty() {
        return output::line("no kind is paused");
    }
    output::line(&paused.join("\n"))
}
