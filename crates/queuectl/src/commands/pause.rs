//! `pause`: no claim by any worker of any process returns jobs of the kind until it is
//! resumed. Jobs already running are left alone; enqueues still succeed.

use serde::Serialize;

use super::Ctx;
use crate::cli::after_help;
use crate::error::CliError;
use crate::output;

/// Options of `pause`.
#[derive(clap::Args)]
#[command(after_help = after_help!(
    "  queuectl pause email\n  queuectl pause email --json    # {\"kind\":\"email\",\"paused\":true}"
))]
pub struct Args {
    /// The kind to pause (pausing a paused kind is fine).
    kind: String,
}

/// A kind's pause, as JSON (shared with `resume`).
#[derive(Serialize)]
pub struct PauseState<'a> {
    /// The kind.
    pub kind: &'a str,
    /// Whether it is paused now.
    pub paused: bool,
}

/// Pauses the kind.
pub async fn run(ctx: &Ctx, args: Args) -> Result<(), CliError> {
    ctx.queue
        .pause_kind(&args.kind)
        .await
        .map_err(|e| CliError::from(e).context("pause"))?;
    if ctx.json {
        return output::json(&PauseState {
            kind: &args.kind,
            paused: true,
        });
    }
    output::line(&format!(
        "paused {}: no worker claims its jobs until `queuectl resume {}` (running jobs go on)",
        args.kind, args.kind
    ))
}
