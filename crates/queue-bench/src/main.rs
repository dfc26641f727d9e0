//! Benchmarks of every backend, run by `cargo xtask bench` in a release build.
//!
//! Per backend: bulk enqueue rate, drain rate of queued no-op jobs through the
//! [`queue_core::Worker`] at one or more backlogs, enqueue-to-start latency at a fixed
//! offered rate, and the calls per second an idle worker makes; each durable backend's
//! figures beside a raw baseline on the same server (see `raw`). Prints a paragraph on
//! the machine and markdown tables, and writes JSON. What each figure measures is in
//! `measure`.

mod args;
mod backends;
mod chunks;
mod counting;
mod machine;
mod measure;
mod raw;
mod report;

/// Histogram buckets, in seconds, as an application would set them for job times.
const BUCKETS: [f64; 12] = [
    0.000_1, 0.000_5, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0, 300.0,
];

/// Any failure of a measurement, reported and fatal.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// A backend's figures once what it made is cleaned up; `None`, reported, when the
/// measurement or the cleanup failed (the measurement's own failure is the one told).
fn settled<T>(name: &str, out: Result<T, Error>, cleaned: queue_core::Result<()>) -> Option<T> {
    match (out, cleaned) {
        (Ok(value), Ok(())) => Some(value),
        (Err(e), _) => {
            eprintln!("queue-bench: {name}: {}", queue_core::ErrorChain(&*e));
            None
        }
        (Ok(_), Err(e)) => {
            eprintln!(
                "queue-bench: {name}: cleanup: {}",
                queue_core::ErrorChain(&e)
            );
            None
        }
    }
}

/// `--limits-only`: the limited drain beside the unlimited one, per backend.
async fn limits_only(opts: &args::Options) -> std::process::ExitCode {
    for backend in backends::selected(&opts.backends) {
        eprintln!("== {} ==", backend.name());
        let cost = measure::limit_cost(backend.as_ref(), opts).await;
        let cleaned = backend.cleanup().await;
        let Some(cost) = settled(backend.name(), cost, cleaned) else {
            return std::process::ExitCode::FAILURE;
        };
        print!("{}", report::limit_line(backend.name(), &cost, opts));
    }
    std::process::ExitCode::SUCCESS
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let opts = match args::parse(&argv) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("queue-bench: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    // For the whole run, so the worker's metrics (when asked for) go where an
    // application's would: a Prometheus recorder, scraped every 5 s.
    let recorder = match metrics_exporter_prometheus::PrometheusBuilder::new()
        .set_buckets(&BUCKETS)
        .map(|b| b.build_recorder())
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("queue-bench: cannot build the metrics recorder: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let scrape = recorder.handle();
    if let Err(e) = metrics::set_global_recorder(recorder) {
        eprintln!("queue-bench: cannot install the metrics recorder: {e}");
        return std::process::ExitCode::FAILURE;
    }
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(5)).await;
            drop(scrape.render());
        }
    });
    if opts.limits_only {
        return limits_only(&opts).await;
    }
    let mut machine = machine::Machine::here();
    let mut rows = Vec::new();
    for backend in backends::selected(&opts.backends) {
        eprintln!("== {} ==", backend.name());
        let row = measure::all(backend.as_ref(), &opts).await;
        // Whatever a failed step left behind (tables, keys, files).
        let cleaned = backend.cleanup().await;
        let Some(row) = settled(backend.name(), row, cleaned) else {
            return std::process::ExitCode::FAILURE;
        };
        if let Some(v) = &row.server_version {
            machine.servers.push((row.backend.clone(), v.clone()));
        }
        rows.push(row);
    }
    println!("\n{}", report::render(&rows, &machine, &opts));
    if let Err(e) = report::write_json(&rows, &machine, &opts) {
        eprintln!("queue-bench: cannot write {}: {e}", opts.json);
        return std::process::ExitCode::FAILURE;
    }
    std::process::ExitCode::SUCCESS
}
