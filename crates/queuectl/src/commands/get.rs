//! `get`: one job in full, its payload and output pretty-printed.

use queue_core::{Job, JobId};
use time::OffsetDateTime;

use super::Ctx;
use crate::cli::{after_help, parse_id};
use crate::error::CliError;
use crate::output;

/// Options of `get`.
#[derive(clap::Args)]
#[command(after_help = after_help!(
    "  queuectl get 01JDQ6ZP1V8G3XH9K2M4N5P6Q7\n  queuectl get 01JDQ6ZP1V8G3XH9K2M4N5P6Q7 --json | jq .payload"
))]
pub struct Args {
    /// The job's id.
    #[arg(value_parser = parse_id)]
    id: JobId,
}

/// Prints the job, or fails when there is none with that id.
pub async fn run(ctx: &Ctx, args: Args) -> Result<(), CliError> {
    let job = ctx.job("get", args.id).await?;
    if ctx.json {
        return output::json(&job);
    }
    output::write_out(describe(&job, OffsetDateTime::now_utc()).as_bytes())
}

/// The job for people: one field a line, then the payload and output as indented JSON.
fn describe(job: &Job, now: OffsetDateTime) -> String {
    let mut fields: Vec<(&str, String)> = vec![
        ("id", job.id.to_string()),
        ("kind", job.kind.clone()),
        ("state", job.state.to_string()),
        ("priority", job.priority.to_string()),
        (
            "attempts",
            format!("{} of {}", job.attempts, job.max_attempts),
        ),
        ("created", output::time_and_relative(job.created_at, now)),
        ("due", output::time_and_relative(job.scheduled_at, now)),
    ];
    if let Some(at) = job.finished_at {
        fields.push(("finished", output::time_and_relative(at, now)));
    }
    if let Some(lease) = &job.lease {
        fields.push((
            "lease until",
            output::time_and_relative(lease.expires_at, now),
        ));
    }
    if job.cancel_requested {
        fields.push((
            "cancel requested",
            "yes: it ends cancelled unless it succeeds".into(),
        ));
    }
    if let Some(key) = &job.unique_key {
        fields.push(("unique key", key.clone()));
    }
    if let Some(key) = &job.concurrency_key {
        fields.push(("concurrency key", key.clone()));
    }
    if let Some(error) = &job.last_error {
        fields.push(("last error", error.clone()));
    }
    let width = fields.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let mut text = String::new();
    for (name, value) in fields {
        // Continuation lines of a long error line up under its first line.
        let value = value.replace('\n', &format!("\n{}", " ".repeat(width + 2)));
        text.push_str(&format!("{name:<width$}  {value}\n"));
    }
    text.push_str(&format!("payload:\n{}\n", pretty(&job.payload)));
    if let Some(out) = &job.output {
        text.push_str(&format!("output:\n{}\n", pretty(out)));
    }
    text
}

/// Indented JSON.
fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use queue_core::JobState;
    use time::macros::datetime;

    #[test]
    fn a_job_reads_field_by_field_with_its_payload_indented() {
        let now = datetime!(2026-11-29 10:00:00 UTC);
        let job = Job {
            id: JobId::from_bytes([0; 16]),
            kind: "email".into(),
            payload: serde_json::json!({"to": "a@example.com"}),
            priority: 5,
            attempts: 3,
            max_attempts: 3,
            created_at: datetime!(2026-11-29 09:00:00 UTC),
            scheduled_at: datetime!(2026-11-29 09:30:00 UTC),
            state: JobState::Failed,
            unique_key: None,
            concurrency_key: None,
            last_error: Some("smtp said no\nat line 2".into()),
            lease: None,
            output: None,
            cancel_requested: false,
            finished_at: Some(datetime!(2026-11-29 09:59:00 UTC)),
        };
        let text = describe(&job, now);
        assert!(
            text.starts_with("id          00000000000000000000000000\n"),
            "{text}"
        );
        assert!(text.contains("attempts    3 of 3\n"), "{text}");
        assert!(
            text.contains("finished    2026-11-29 09:59:00Z (1m ago)\n"),
            "{text}"
        );
        assert!(
            text.contains("last error  smtp said no\n            at line 2\n"),
            "{text}"
        );
        assert!(
            text.ends_with("payload:\n{\n  \"to\": \"a@example.com\"\n}\n"),
            "{text}"
        );
    }
}
