//! `cancel`: a pending job is cancelled at once; a running one gets a cancel request that
//! its worker hears and acts on.

use queue_core::{CancelOutcome, JobId};
use serde::Serialize;

use super::Ctx;
use crate::cli::{after_help, parse_id};
use crate::error::CliError;
use crate::output;

/// Options of `cancel`.
#[derive(clap::Args)]
#[command(after_help = after_help!(
    "  queuectl cancel 01JDQ6ZP1V8G3XH9K2M4N5P6Q7\n  queuectl cancel 01JDQ6ZP1V8G3XH9K2M4N5P6Q7 --json    # {\"id\":\"01JD…\",\"outcome\":\"requested\"}"
))]
pub struct Args {
    /// The pending or running job to cancel.
    #[arg(value_parser = parse_id)]
    id: JobId,
}

/// What cancelling did, as JSON.
#[derive(Serialize)]
struct Cancelled {
    /// The job.
    id: JobId,
    /// `"cancelled"` (it was pending and never runs) or `"requested"` (it runs; its
    /// worker was asked to stop it).
    outcome: &'static str,
}

/// Cancels the job; explains why when nothing changed.
pub async fn run(ctx: &Ctx, args: Args) -> Result<(), CliError> {
    let id = args.id;
    let outcome = ctx
        .queue
        .cancel(id)
        .await
        .map_err(|e| CliError::from(e).context("cancel"))?;
    let (word, text) = match outcome {
        CancelOutcome::Cancelled => (
            "cancelled",
            format!("cancelled job {id}: it was pending and will never run"),
        ),
        CancelOutcome::Requested => (
            "requested",
            format!(
                "asked the worker running job {id} to stop it: it ends cancelled unless its \
                 handler succeeds first"
            ),
        ),
        CancelOutcome::Unchanged => {
            let job = ctx.job("cancel", id).await?;
            return Err(CliError::failed(format!(
                "cancel: job {id} is {} already, nothing to cancel",
                job.state
            )));
        }
    };
    if ctx.json {
        return output::json(&Cancelled { id, outcome: word });
    }
    output::line(&text)
}
