//! `queuectl`: the command line for operators of a queue of this workspace. It opens a
//! Postgres, MySQL/MariaDB, SQLite or Redis queue from a URL and shows or changes what is
//! in it: counts, lists, single jobs, replays, cancels, pauses, purges, migrations, and a
//! live view.
//!
//! ```text
//! $ export QUEUE_URL=postgres://postgres@127.0.0.1:5432/app
//! $ queuectl stats
//! STATE      JOBS
//! pending      12
//! running       3
//! completed    40
//! failed        2
//! cancelled     0
//!
//! paused kinds: none
//! limited kinds: none
//! $ queuectl replay --all-failed --kind email
//! replayed 2 failed jobs of kind email
//! ```
//!
//! Every command takes `--json` (one JSON document per line, the queue crates' serde
//! forms of jobs and counts), and `--help` with examples. Exit codes: 0 ok, 1 the
//! operation failed, 2 usage error. No output, error or help text shows the password of
//! the URL.
//!
//! Each subcommand is one module of `commands`; `main` only parses the command line,
//! runs the command on a single-threaded runtime and turns its error into a message and
//! an exit code.

mod cli;
mod commands;
mod duration;
mod error;
mod open;
mod output;
mod progress;
mod schema;
mod scrub;
mod target;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::Cli;
use crate::error::{CliError, Exit};
use crate::scrub::Scrubber;

fn main() -> ExitCode {
    // Usage errors exit with 2 here, `--help` and `--version` with 0.
    let cli = Cli::parse();
    let scrubber = Scrubber::new(cli.target.url.as_deref().unwrap_or_default());
    let result = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::failed(format!("cannot start the async runtime: {e}")))
        .and_then(|runtime| runtime.block_on(commands::run(cli)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("queuectl: {}", scrubber.scrub(&e.message));
            if e.exit == Exit::Usage {
                eprintln!("\nFor more information, try '--help'.");
            }
            e.exit.into()
        }
    }
}
