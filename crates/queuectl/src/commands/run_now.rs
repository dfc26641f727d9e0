//! `run-now`: a pending job scheduled for later becomes due now (its priority still
//! orders it among the due jobs).

use queue_core::{JobId, JobState};
use serde::Serialize;
use time::OffsetDateTime;

use super::Ctx;
use crate::cli::{after_help, parse_id};
use crate::error::CliError;
use crate::output;

/// Options of `run-now`.
#[derive(clap::Args)]
#[command(after_help = after_help!(
    "  queuectl run-now 01JDQ6ZP1V8G3XH9K2M4N5P6Q7\n  queuectl run-now 01JDQ6ZP1V8G3XH9K2M4N5P6Q7 --json    # {\"id\":\"01JD…\",\"outcome\":\"due_now\"}"
))]
pub struct Args {
    /// The pending job to make due.
    #[arg(value_parser = parse_id)]
    id: JobId,
}

/// What run-now did, as JSON.
#[derive(Serialize)]
struct RunNow {
    /// The job.
    id: JobId,
    /// `"due_now"` (it was scheduled for later), or `"already_due"` (it was due already:
    /// nothing to change).
    outcome: &'static str,
}

/// Makes the job due; a job already due is fine, any other state is an error.
pub async fn run(ctx: &Ctx, args: Args) -> Result<(), CliError> {
    let id = args.id;
    let moved = ctx
        .queue
        .run_now(id)
        .await
        .map_err(|e| CliError::from(e).context("run-now"))?;
    let (outcome, text) = if moved {
        ("due_now", format!("job {id} is due now"))
    } else {
        let job = ctx.job("run-now", id).await?;
        if job.state != JobState::Pending {
            return Err(CliError::failed(format!(
                "run-now: job {id} is {}, not pending (`queuectl replay {id}` runs a failed \
                 job again)",
                job.state
            )));
        }
        let since = output::relative(job.scheduled_at, OffsetDateTime::now_utc());
        (
            "already_due",
            format!("job {id} is due already (since {since})"),
        )
    };
    if ctx.json {
        return output::json(&RunNow { id, outcome });
    }
    output::line(&text)
}
