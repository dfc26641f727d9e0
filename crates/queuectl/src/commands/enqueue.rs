//! `enqueue`: adds one job and prints its id.

use std::io::Read;
use std::time::Duration;

use queue_core::{Job, JobId, NewJob};
use serde::Serialize;

use super::Ctx;
use crate::cli::after_help;
use crate::error::CliError;
use crate::{duration, output};

/// Options of `enqueue`.
#[derive(clap::Args)]
#[command(after_help = after_help!(
    "  queuectl enqueue email '{\"to\":\"a@example.com\"}'\n  queuectl enqueue report '{\"day\":\"2026-11-29\"}' --delay 2h --priority 5\n  queuectl enqueue sync '{}' --unique sync:all --max-attempts 10\n  generate-payload | queuectl enqueue import -    # the payload from stdin\n  id=$(queuectl enqueue email '\"a@example.com\"')"
))]
pub struct Args {
    /// The job's kind: workers pick a handler by it.
    kind: String,
    /// The payload as JSON (a string needs its quotes: '"text"'), or - to read it from
    /// stdin.
    payload: String,
    /// Run no sooner than this from now (30s, 5m, 2h, 7d).
    #[arg(long, value_parser = duration::parse)]
    delay: Option<Duration>,
    /// Higher runs first.
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    priority: i32,
    /// A unique key: while a job holds it, enqueueing another with it returns that job's
    /// id and adds nothing. Held until the job ends, or for --unique-for.
    #[arg(long, value_name = "KEY")]
    unique: Option<String>,
    /// With --unique: hold the key this long from now instead.
    #[arg(long, requires = "unique", value_parser = duration::parse)]
    unique_for: Option<Duration>,
    /// Attempts before the job is dead-lettered [default: the queue's, 3].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    max_attempts: Option<u32>,
}

/// The enqueued job, as JSON.
#[derive(Serialize)]
struct Enqueued {
    /// Its id; with a unique key already held, the holder's.
    id: JobId,
    /// False when a job holding the unique key was there already, and nothing was added.
    enqueued: bool,
}

/// Checks the job here (a bad kind or payload is a usage error), enqueues it and prints
/// its id.
pub async fn run(ctx: &Ctx, args: Args) -> Result<(), CliError> {
    let payload = read_payload(&args.payload)?;
    let job = build(&args, payload)?;
    let mine = job.id;
    let id = ctx
        .queue
        .enqueue(job)
        .await
        .map_err(|e| CliError::from(e).context("enqueue"))?;
    // Our own id coming back means a new job; any other is the unique key's holder.
    let enqueued = Some(id) == mine;
    if ctx.json {
        return output::json(&Enqueued { id, enqueued });
    }
    if !enqueued {
        eprintln!(
            "queuectl: job {id} holds unique key {:?} already: nothing was added",
            args.unique.as_deref().unwrap_or_default()
        );
    }
    output::line(&id.to_string())
}

/// The payload argument as JSON; `-` reads stdin.
fn read_payload(arg: &str) -> Result<serde_json::Value, CliError> {
    let text = if arg == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| CliError::failed(format!("cannot read the payload from stdin: {e}")))?;
        text
    } else {
        arg.to_owned()
    };
    serde_json::from_str(&text).map_err(|e| {
        CliError::usage(format!(
            "the payload is not JSON: {e} (a string needs its quotes: '\"text\"'; - reads it \
             from stdin)"
        ))
    })
}

/// The job to enqueue, checked as the backends check it.
fn build(args: &Args, payload: serde_json::Value) -> Result<NewJob, CliError> {
    let mut job = Job::new(args.kind.clone(), payload)
        .id(JobId::new())
        .priority(args.priority);
    if let Some(delay) = args.delay {
        job = job.delay(delay);
    }
    if let Some(n) = args.max_attempts {
        job = job.max_attempts(n);
    }
    if let Some(key) = &args.unique {
        job = match args.unique_for {
            Some(window) => job.unique_for(key.clone(), window),
            None => job.unique(key.clone()),
        };
    }
    job.prepare()
        .map_err(|e| CliError::usage(format!("enqueue: {e}")))?;
    Ok(job)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(kind: &str) -> Args {
        Args {
            kind: kind.into(),
            payload: String::new(),
            delay: Some(Duration::from_secs(60)),
            priority: -2,
            unique: Some("k".into()),
            unique_for: None,
            max_attempts: Some(7),
        }
    }

    #[test]
    fn options_become_the_job() {
        let job =
            build(&args("email"), serde_json::json!({"a": 1})).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(job.priority, -2);
        assert_eq!(job.max_attempts, 7);
        assert_eq!(
            job.run_at,
            queue_core::RunAt::After(Duration::from_secs(60))
        );
        assert_eq!(
            job.unique.map(|u| (u.key, u.window)),
            Some(("k".into(), None))
        );
        assert!(job.id.is_some());
    }

    #[test]
    fn bad_jobs_and_payloads_are_usage_errors() {
        let e = build(&args(" email"), serde_json::json!(1))
            .err()
            .map(|e| (e.exit, e.message));
        assert!(
            matches!(e, Some((crate::error::Exit::Usage, ref m)) if m.contains("spaces")),
            "{e:?}"
        );
        let e = read_payload("{oops").err().map(|e| e.exit);
        assert_eq!(e, Some(crate::error::Exit::Usage));
        assert_eq!(
            read_payload("\"text\"").ok(),
            Some(serde_json::json!("text"))
        );
    }
}
