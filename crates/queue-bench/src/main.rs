//! Benchmarks of every backend, run by `cargo xtask bench` in a release build.
//!
//! Per backend: bulk enqueue rate, drain rate of queued no-op jobs through the
//! [`queue_core::Worker`], enqueue-to-start latency at a fixed offered rate, and the calls
//! per second an idle worker makes. Prints a markdown table and writes JSON.

mod backends;
mod counting;
mod measure;
mod report;

use std::time::Duration;

/// What to run, from the command line.
#[derive(Clone, Debug)]
pub struct Options {
    /// Backends to run; empty means all that are available.
    pub backends: Vec<String>,
    /// Jobs for the enqueue and drain measurements.
    pub jobs: usize,
    /// Worker concurrency for drain and latency.
    pub concurrency: usize,
    /// Offered rate for the latency measurement, jobs/s.
    pub rate: u32,
    /// How long the latency and idle measurements run.
    pub window: Duration,
    /// Where the JSON goes.
    pub json: String,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        backends: Vec::new(),
        jobs: 100_000,
        concurrency: 64,
        rate: 1_000,
        window: Duration::from_secs(5),
        json: "target/bench/results.json".into(),
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--backend" => o.backends.push(value()?.clone()),
            "--jobs" => o.jobs = value()?.parse().map_err(|e| format!("--jobs: {e}"))?,
            "--concurrency" => {
                o.concurrency = value()?
                    .parse()
                    .map_err(|e| format!("--concurrency: {e}"))?
            }
            "--rate" => o.rate = value()?.parse().map_err(|e| format!("--rate: {e}"))?,
            "--json" => o.json = value()?.clone(),
            "--quick" => {
                o.jobs = 20_000;
                o.window = Duration::from_secs(2);
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if o.jobs == 0 || o.concurrency == 0 || o.rate == 0 {
        return Err("--jobs, --concurrency and --rate must be positive".into());
    }
    Ok(o)
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let opts = match parse(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("queue-bench: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let mut rows = Vec::new();
    for backend in backends::selected(&opts.backends) {
        eprintln!("== {} ==", backend.name());
        match measure::all(backend.as_ref(), &opts).await {
            Ok(row) => rows.push(row),
            Err(e) => {
                eprintln!("queue-bench: {}: {e}", backend.name());
                return std::process::ExitCode::FAILURE;
            }
        }
    }
    report::print(&rows, &opts);
    if let Err(e) = report::write_json(&rows, &opts) {
        eprintln!("queue-bench: cannot write {}: {e}", opts.json);
        return std::process::ExitCode::FAILURE;
    }
    std::process::ExitCode::SUCCESS
}
