//! The command line: global options, and the value parsers clap uses, so a bad value is
//! a usage error (exit code 2) with a message saying what is expected.

use clap::{Args, Parser};
use queue_core::{JobId, JobState};

use crate::commands::Command;

/// Help text after the options of a command that opens a queue: its examples, what
/// opening a SQL queue does, and the exit codes.
macro_rules! after_help {
    ($examples:literal) => {
        concat!(
            "Examples:\n",
            $examples,
            "\n\nOpening a SQL queue applies the migrations its table lacks (an older schema is \
             upgraded in place); a table that does not exist is not created: run `queuectl \
             migrate` for that.\n\n",
            "Exit codes: 0 ok, 1 the operation failed (the message says why), 2 usage error."
        )
    };
}
pub(crate) use after_help;

/// The help heading of the options every command takes.
const QUEUE: &str = "Queue options (any command)";

/// See and steer a job queue on Postgres, MySQL/MariaDB, SQLite or Redis.
#[derive(Parser)]
#[command(
    name = "queuectl",
    version,
    after_help = concat!(
        "Examples:\n",
        "  export QUEUE_URL=postgres://postgres@127.0.0.1:5432/app\n",
        "  queuectl stats\n",
        "  queuectl list --state failed --kind email\n",
        "  queuectl replay --all-failed --kind email\n",
        "  queuectl --url sqlite:jobs.db enqueue email '{\"to\":\"a@example.com\"}'\n",
        "  queuectl --url redis://127.0.0.1:6379 --queue emails watch\n",
        "\n",
        "Every command takes --json for scripts (one JSON document per line on stdout). ",
        "Errors go to stderr and never show the password of the URL.\n\n",
        "Exit codes: 0 ok, 1 the operation failed (the message says why), 2 usage error."
    )
)]
pub struct Cli {
    /// Where the queue is.
    #[command(flatten)]
    pub target: Target,

    /// Print JSON for scripts instead of tables: one document per line, stable field names
    /// (jobs and counts as the queue crates serialise them). No progress bars.
    #[arg(long, global = true, help_heading = QUEUE)]
    pub json: bool,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The queue to open. Not `Debug`: it holds the URL, password and all.
#[derive(Args, Clone)]
pub struct Target {
    /// The queue's URL (the help text spells out the forms).
    #[arg(
        long,
        env = "QUEUE_URL",
        hide_env_values = true,
        global = true,
        value_name = "URL",
        help_heading = QUEUE,
        help = "The queue's URL: postgres://USER[:PASSWORD]@HOST[:PORT]/DB, \
                mysql://USER[:PASSWORD]@HOST[:PORT]/DB (or mariadb://), sqlite:FILE, or \
                redis://[:PASSWORD@]HOST[:PORT][/DB] (also redis-cluster://, redis-sentinel:// \
                and valkey://; their TLS forms, rediss:// and so on, unless built without TLS)"
    )]
    pub url: Option<String>,

    /// SQL only: the table that holds the jobs [default: queue_jobs].
    #[arg(long, global = true, value_name = "TABLE", help_heading = QUEUE)]
    pub table: Option<String>,

    /// Redis only (and required there): the queue's name, as given to
    /// `RedisQueue::builder`.
    #[arg(long, global = true, value_name = "NAME", help_heading = QUEUE)]
    pub queue: Option<String>,
}

/// Parses a job id (a 26-character ULID).
pub fn parse_id(text: &str) -> Result<JobId, String> {
    text.trim().parse().map_err(|_| {
        "not a job id: ids are 26-character ULIDs such as 01JDQ6ZP1V8G3XH9K2M4N5P6Q7".into()
    })
}

/// Parses a job state by its name.
pub fn parse_state(text: &str) -> Result<JobState, String> {
    JobState::ALL
        .into_iter()
        .find(|s| s.as_str() == text.trim().to_ascii_lowercase())
        .ok_or_else(|| "expected one of pending, running, completed, failed, cancelled".into())
}

/// Parses a final state, the only ones a job is purged from.
pub fn parse_final_state(text: &str) -> Result<JobState, String> {
    match parse_state(text) {
        Ok(state) if state.is_final() => Ok(state),
        _ => Err(
            "expected one of completed, failed, cancelled (pending and running jobs are never \
             purged)"
                .into(),
        ),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn values_parse_or_say_what_is_expected() {
        let id = JobId::new();
        assert_eq!(parse_id(&id.to_string()), Ok(id));
        assert!(parse_id("42").unwrap_err().contains("ULID"));
        assert_eq!(parse_state("Failed"), Ok(JobState::Failed));
        assert!(parse_state("done").unwrap_err().contains("pending"));
        assert_eq!(parse_final_state("cancelled"), Ok(JobState::Cancelled));
        assert!(parse_final_state("running").unwrap_err().contains("never"));
    }
}
