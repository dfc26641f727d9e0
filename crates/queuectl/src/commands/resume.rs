//! `resume`: jobs of a paused kind are claimable again, and idle workers are woken.

use super::pause::PauseState;
use super::Ctx;
use crate::cli::after_help;
use crate::error::CliError;
use crate::output;

/// Options of `resume`.
#[derive(clap::Args)]
#[command(after_help = after_help!(
    "  queuectl resume email\n  queuectl resume email --json    # {\"kind\":\"email\",\"paused\":false}"
))]
pub struct Args {
    /// The kind to resume (resuming a kind that is not paused is fine).
    kind: String,
}

/// Resumes the kind.
pub async fn run(ctx: &Ctx, args: Args) -> Result<(), CliError> {
    ctx.queue
        .resume_kind(&args.kind)
        .await
        .map_err(|e| CliError::from(e).context("resume"))?;
    if ctx.json {
        return output::json(&PauseState {
            kind: &args.kind,
            paused: false,
        });
    }
    output::line(&format!(
        "resumed {}: workers claim its jobs again",
        args.kind
    ))
}
