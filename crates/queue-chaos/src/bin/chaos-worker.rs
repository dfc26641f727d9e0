//! A worker process for the chaos harness: `chaos-worker --ledger PATH [options]
//! postgres URL TABLE | mysql URL TABLE | redis URL NAME | sqlite PATH`
//! (see `queue_chaos::config`).

use std::process::ExitCode;

use queue_chaos::config::WorkerConfig;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    // The worker's and the backends' warnings go to the worker's log (its stderr).
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::io::stderr)
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match WorkerConfig::parse(&args) {
        Ok(config) => queue_chaos::worker::run(config).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("chaos-worker: {e}");
            ExitCode::FAILURE
        }
    }
}
