//! Project tasks: `cargo xtask test | conformance | bench | chaos`.
//!
//! Plain argument parsing keeps `cargo xtask` quick to build.

mod bench;
mod cargo;
mod chaos;
mod conformance;
mod mysql;
mod package;
mod postgres;
// The one redaction of queue-core, compiled in here so xtask builds without the
// workspace crates (the file uses only std). xtask needs only `redact_url` of it.
#[path = "../../crates/queue-core/src/redact.rs"]
#[allow(dead_code)]
mod redact;
mod services;
mod throwaway;

use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  test          fmt check, clippy -D warnings, every workspace test (examples
                and README blocks included), `cargo package` of the published
                crates (nothing uploaded), then `chaos --quick`
                (QUEUE_SKIP_SERVERS=1 leaves out the Postgres, Redis and MySQL
                tests and scenarios)
  conformance   the queue-testkit suite against every backend, as one table
  bench [--backend NAME] [--jobs N] [--backlog N]... [--sweep] [--repeat K]
        [--concurrency C] [--rate R] [--quick]
                throughput and latency per backend, each beside a raw baseline on
                the same server (release build); --backlog N (repeatable; 10k, 1M
                work) drains N queued jobs and measures latency beside N jobs due in
                an hour; --sweep = 10k, 100k and 1M; --repeat K reports the median
                of K enqueue and drain runs
  chaos [--quick] [--only TEXT] [--jobs N]
                worker processes drain jobs while servers restart, connections
                drop and workers are SIGKILLed; fails on any lost job or any two
                runs of one job at once (its own throw-away servers)

Postgres, Redis and MySQL (MariaDB) come from DATABASE_URL / REDIS_URL / MYSQL_URL,
else servers on the default local ports, else `docker compose`, else throw-away local
servers (forced with QUEUE_THROWAWAY_SERVICES=1), which are stopped and removed
afterwards.
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("conformance") => conformance(),
        Some("bench") => bench::run(&args[1..]),
        Some("chaos") => chaos::run(&args[1..]),
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
    let skip_servers = queue_servers::skip_requested();
    // Before the slow steps, so a missing server is reported at once; kept to the end.
    let _services = if skip_servers {
        None
    } else {
        Some(services::ensure(services::ALL)?)
    };
    cargo::run(&["fmt", "--all", "--", "--check"])?;
    cargo::run(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ])?;
    if skip_servers {
        // Explicit opt-out for machines without the servers; CI never sets it.
        eprintln!("xtask: QUEUE_SKIP_SERVERS=1: skipping the Postgres, Redis and MySQL tests");
        cargo::run(&[
            "test",
            "--workspace",
            "--exclude",
            "queue-sql",
            "--exclude",
            "queue-redis",
        ])?;
        cargo::run(&["test", "-p", "queue-sql", "--lib", "--test", "sqlite"])?;
        package::check()?;
        // SQLite needs no server.
        return chaos::run(&["--quick".into(), "--only".into(), "sqlite".into()]);
    }
    cargo::run(&["test", "--workspace"])?;
    package::check()?;
    chaos::run(&["--quick".to_string()])
}

fn conformance() -> Result<(), String> {
    let _services = services::ensure(services::ALL)?;
    conformance::run()
}
