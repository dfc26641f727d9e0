//! `delete`: removes one finished job (completed, failed or cancelled).

use queue_core::JobId;
use serde::Serialize;

use super::Ctx;
use crate::cli::{after_help, parse_id};
use crate::error::CliError;
use crate::output;

/// Options of `delete`.
#[derive(clap::Args)]
#[command(after_help = after_help!(
    "  queuectl delete 01JDQ6ZP1V8G3XH9K2M4N5P6Q7\n  queuectl delete 01JDQ6ZP1V8G3XH9K2M4N5P6Q7 --json    # {\"id\":\"01JD…\",\"outcome\":\"deleted\"}"
))]
pub struct Args {
    /// The finished job to delete.
    #[arg(value_parser = parse_id)]
    id: JobId,
}

/// What delete did, as JSON.
#[derive(Serialize)]
struct Deleted {
    /// The job.
    id: JobId,
    /// Always `"deleted"`: a job that could not be deleted is an error.
    outcome: &'static str,
}

/// Deletes the job; a pending or running one is refused with what to do instead.
pub async fn run(ctx: &Ctx, args: Args) -> Result<(), CliError> {
    let id = args.id;
    let deleted = ctx
        .queue
        .delete(id)
        .await
        .map_err(|e| CliError::from(e).context("delete"))?;
    if !deleted {
        let job = ctx.job("delete", id).await?;
        return Err(CliError::failed(format!(
            "delete: job {id} is {}, and only finished jobs are deleted (cancel it first: \
             `queuectl cancel {id}`)",
            job.state
        )));
    }
    if ctx.json {
        return output::json(&Deleted {
            id,
            outcome: "deleted",
        });
    }
    output::line(&format!("deleted job {id}"))
}
