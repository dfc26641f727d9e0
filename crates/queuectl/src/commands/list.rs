//! `list`: jobs newest first, filtered by state and kind, a page at a time.

use queue_core::{Job, JobFilter, JobId, JobState};
use serde::Serialize;
use time::OffsetDateTime;

use super::Ctx;
use crate::cli::{after_help, parse_id, parse_state};
use crate::error::CliError;
use crate::output::{self, Table};

/// Options of `list`.
#[derive(clap::Args)]
#[command(after_help = after_help!(
    "  queuectl list --state failed --kind email --limit 20\n  queuectl list --before 01JDQ6ZP1V8G3XH9K2M4N5P6Q7    # the next page\n  queuectl list --json | jq -r '.jobs[].id'"
))]
pub struct Args {
    /// Only jobs in this state: pending, running, completed, failed or cancelled.
    #[arg(long, value_parser = parse_state)]
    state: Option<JobState>,
    /// Only jobs of this kind.
    #[arg(long)]
    kind: Option<String>,
    /// At most this many jobs.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    limit: u32,
    /// Only jobs older than this id: the cursor the previous page printed.
    #[arg(long, value_parser = parse_id, value_name = "ID")]
    before: Option<JobId>,
}

/// A page of jobs as JSON.
#[derive(Serialize)]
struct Page<'a> {
    /// The jobs, newest first, in the queue crates' serde form.
    jobs: &'a [Job],
    /// The `--before` of the next page; `null` on the last page.
    next_before: Option<JobId>,
}

/// Prints one page and the cursor of the next.
pub async fn run(ctx: &Ctx, args: Args) -> Result<(), CliError> {
    let limit = usize::try_from(args.limit).unwrap_or(usize::MAX);
    let mut filter = JobFilter::new().limit(limit + 1);
    filter.state = args.state;
    filter.kind = args.kind.clone();
    filter.before = args.before;
    let mut jobs = ctx
        .queue
        .list(&filter)
        .await
        .map_err(|e| CliError::from(e).context("list"))?;
    // One more than asked for tells whether another page follows.
    let more = jobs.len() > limit;
    jobs.truncate(limit);
    let next_before = if more {
        jobs.last().map(|j| j.id)
    } else {
        None
    };
    if ctx.json {
        return output::json(&Page {
            jobs: &jobs,
            next_before,
        });
    }
    if jobs.is_empty() {
        return output::line("no jobs match");
    }
    let mut text = table(&jobs, OffsetDateTime::now_utc()).render();
    if let Some(cursor) = next_before {
        text.push_str(&format!("\nnext page: {}\n", next_command(&args, cursor)));
    }
    output::write_out(text.as_bytes())
}

/// The jobs as a table.
fn table(jobs: &[Job], now: OffsetDateTime) -> Table {
    let mut table = Table::new(&[
        "ID",
        "KIND",
        "STATE",
        "ATTEMPTS",
        "PRIORITY",
        "CREATED",
        "DUE",
        "LAST ERROR",
    ])
    .align_right(&[3, 4]);
    for job in jobs {
        table.row(vec![
            job.id.to_string(),
            job.kind.clone(),
            job.state.to_string(),
            format!("{}/{}", job.attempts, job.max_attempts),
            job.priority.to_string(),
            output::relative(job.created_at, now),
            output::relative(job.scheduled_at, now),
            job.last_error.clone().unwrap_or_default(),
        ]);
    }
    table
}

/// The command line that lists the next page.
fn next_command(args: &Args, cursor: JobId) -> String {
    let mut cmd = String::from("queuectl list");
    if let Some(state) = args.state {
        cmd.push_str(&format!(" --state {state}"));
    }
    if let Some(kind) = &args.kind {
        cmd.push_str(&format!(" --kind {}", shell_word(kind)));
    }
    cmd.push_str(&format!(" --limit {} --before {cursor}", args.limit));
    cmd
}

/// `text` quoted for a POSIX shell when it needs to be.
fn shell_word(text: &str) -> String {
    if !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:/@".contains(c))
    {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_page_command_keeps_the_filters() {
        let id = JobId::from_bytes([1; 16]);
        let args = Args {
            state: Some(JobState::Failed),
            kind: Some("send mail's".into()),
            limit: 20,
            before: None,
        };
        assert_eq!(
            next_command(&args, id),
            format!(
                "queuectl list --state failed --kind 'send mail'\\''s' --limit 20 --before {id}"
            )
        );
        assert_eq!(shell_word("email.v2"), "email.v2");
    }
}
