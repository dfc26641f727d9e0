//! Project tasks: `cargo xtask test | conformance | bench`.
//!
//! Plain argument parsing keeps `cargo xtask` quick to build.

mod bench;
mod cargo;
mod conformance;

use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  test          fmt check, clippy -D warnings, every workspace test
  conformance   the queue-testkit suite against every backend, as one table
  bench [--backend NAME] [--jobs N] [--concurrency C] [--quick]
                throughput and latency per backend (release build)
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("conformance") => conformance::run(),
        Some("bench") => bench::run(&args[1..]),
        Some("-h" | "--help" | "help") | None => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some(other) => Err(format!("unknown command {other:?}\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

fn test() -> Result<(), String> {
    cargo::run(&["fmt", "--all", "--", "--check"])?;
    cargo::run(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ])?;
    cargo::run(&["test", "--workspace"])
}
