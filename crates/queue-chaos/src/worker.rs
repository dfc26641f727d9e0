//! The `chaos-worker` process: a [`Worker`] whose handler records each run in the
//! ledger and sleeps a short random time (or the time a long job's payload gives). It stops when its stdin closes (the harness
//! drops its end), or dies when killed.

use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant};

use queue_core::{Job, Queue, Worker};

use crate::config::{WorkerConfig, IDLE_KIND, KIND};
use crate::connect::{open, Role};
use crate::ledger;
use crate::sabotage::LyingHeartbeat;

/// How long a starting worker keeps trying to reach its backend (a server restarting).
const CONNECT_FOR: Duration = Duration::from_secs(60);
/// How long running jobs get to finish when the worker is told to stop.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Runs a worker until stdin closes. Errors are for the process's exit status.
pub async fn run(config: WorkerConfig) -> Result<(), String> {
    let ledger = ledger::Writer::create(&config.ledger)?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    // std's blocking stdin on a thread of its own: EOF (or an error) means stop.
    std::thread::spawn(move || {
        let mut sink = [0u8; 64];
        let mut stdin = std::io::stdin();
        while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
        let _ = stop_tx.send(());
    });

    let queue = connect(&config).await?;
    let queue: Arc<dyn Queue> = if config.lying_heartbeat {
        Arc::new(LyingHeartbeat(queue))
    } else {
        queue
    };
    let (lo, hi) = config.handler_ms;
    let handle = Worker::new(queue)
        .handle(KIND, move |job: Job| {
            let run = ledger.start(&job.id.to_string(), job.attempts);
            // The harness sets a long job's time in its payload; others get a short one.
            let ms = job.payload.get("ms").and_then(|v| v.as_u64());
            let time = Duration::from_millis(ms.unwrap_or_else(|| fastrand::u64(lo..=hi)));
            async move {
                tokio::time::sleep(time).await;
                run.finish();
                Ok(())
            }
        })
        // Never enqueued: claims ask for two kinds, as those of a worker with several
        // handlers do, which on SQLite takes a per-key-limited kind outside a transaction
        // only when that kind is the one limited among them.
        .handle(IDLE_KIND, |_job: Job| async { Ok(()) })
        .concurrency(config.concurrency)
        .start()
        .map_err(|e| format!("cannot start the worker: {e}"))?;
    let _ = stop_rx.await;
    handle.shutdown(SHUTDOWN_GRACE).await;
    Ok(())
}

/// Opens the queue, trying again while the server is unreachable (it may be restarting).
async fn connect(config: &WorkerConfig) -> Result<Arc<dyn queue_core::Queue>, String> {
    let began = Instant::now();
    loop {
        match open(&config.target, config.lease, config.pool, Role::Worker).await {
            Ok(q) => return Ok(q),
            Err(e) if began.elapsed() < CONNECT_FOR => {
                eprintln!(
                    "chaos-worker: cannot connect yet ({}); trying again",
                    queue_core::ErrorChain(&e)
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => {
                let e = queue_core::ErrorChain(&e);
                return Err(format!("cannot connect within {CONNECT_FOR:?}: {e}"));
            }
        }
    }
}
