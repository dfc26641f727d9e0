//! The four measurements.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use queue_core::{Job, NewJob, Queue, Worker};
use serde::Serialize;

use crate::backends::BenchBackend;
use crate::counting::Counting;
use crate::Options;

const KIND: &str = "bench";
const BATCH: usize = 1_000;
/// Longest wait for a drain or the last latency job before giving up.
const PATIENCE: Duration = Duration::from_secs(600);

/// One backend's figures.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub backend: String,
    pub jobs: usize,
    pub concurrency: usize,
    pub enqueue_per_s: f64,
    pub drain_per_s: f64,
    pub latency_rate: u32,
    pub latency_p50_ms: f64,
    pub latency_p99_ms: f64,
    pub idle_calls_per_s: f64,
}

type Error = Box<dyn std::error::Error + Send + Sync>;

pub async fn all(b: &dyn BenchBackend, o: &Options) -> Result<Row, Error> {
    let enqueue_per_s = bulk_enqueue(b, o).await?;
    eprintln!("bulk enqueue: {enqueue_per_s:.0} jobs/s");
    let drain_per_s = drain(b, o).await?;
    eprintln!("drain: {drain_per_s:.0} jobs/s");
    let (p50, p99) = latency(b, o).await?;
    eprintln!("latency at {}/s: p50 {p50:.3} ms, p99 {p99:.3} ms", o.rate);
    let idle = idle(b, o).await?;
    eprintln!("idle worker: {idle:.2} calls/s");
    b.cleanup().await?;
    Ok(Row {
        backend: b.name().to_string(),
        jobs: o.jobs,
        concurrency: o.concurrency,
        enqueue_per_s,
        drain_per_s,
        latency_rate: o.rate,
        latency_p50_ms: p50,
        latency_p99_ms: p99,
        idle_calls_per_s: idle,
    })
}

fn noop_job() -> NewJob {
    Job::new(KIND, serde_json::Value::Null)
}

async fn fill(q: &dyn Queue, n: usize) -> Result<(), Error> {
    let mut left = n;
    while left > 0 {
        let k = left.min(BATCH);
        q.enqueue_batch((0..k).map(|_| noop_job()).collect())
            .await?;
        left -= k;
    }
    Ok(())
}

async fn bulk_enqueue(b: &dyn BenchBackend, o: &Options) -> Result<f64, Error> {
    let q = b.fresh().await?;
    let t0 = Instant::now();
    fill(q.as_ref(), o.jobs).await?;
    Ok(o.jobs as f64 / t0.elapsed().as_secs_f64())
}

async fn drain(b: &dyn BenchBackend, o: &Options) -> Result<f64, Error> {
    let q = b.fresh().await?;
    fill(q.as_ref(), o.jobs).await?;
    let counting = Arc::new(Counting::new(q));
    let t0 = Instant::now();
    let worker = Worker::new(counting.clone())
        .handle(KIND, |_job| async { Ok(()) })
        .concurrency(o.concurrency)
        .start()?;
    let target = o.jobs as u64;
    while worker.stats().completed < target {
        if t0.elapsed() > PATIENCE {
            return Err(format!("drain stalled at {:?}", worker.stats()).into());
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let rate = o.jobs as f64 / t0.elapsed().as_secs_f64();
    // How well the worker batches.
    let (claim, ack) = counting.batch_sizes();
    eprintln!("drain: {claim:.1} jobs per claim, {ack:.1} per ack");
    worker.shutdown(Duration::from_secs(5)).await;
    Ok(rate)
}

async fn latency(b: &dyn BenchBackend, o: &Options) -> Result<(f64, f64), Error> {
    let q = b.fresh().await?;
    let base = Instant::now();
    let samples = Arc::new(Mutex::new(Vec::<u64>::new()));
    let seen = samples.clone();
    let worker = Worker::new(q.clone())
        .handle(KIND, move |job: Job| {
            let seen = seen.clone();
            async move {
                let now = base.elapsed().as_nanos() as u64;
                let sent: u64 = job.args()?;
                seen.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(now.saturating_sub(sent));
                Ok(())
            }
        })
        .concurrency(o.concurrency)
        .start()?;
    // Let the worker go idle first, so the figure includes the wake-up.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let total = (o.rate as f64 * o.window.as_secs_f64()) as usize;
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / o.rate as f64));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    for _ in 0..total {
        tick.tick().await;
        let sent = base.elapsed().as_nanos() as u64;
        q.enqueue(Job::new(KIND, serde_json::json!(sent))).await?;
    }
    let t0 = Instant::now();
    while samples.lock().unwrap_or_else(|p| p.into_inner()).len() < total {
        if t0.elapsed() > PATIENCE {
            return Err("latency jobs never all ran".into());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    worker.shutdown(Duration::from_secs(5)).await;
    let mut v = samples.lock().unwrap_or_else(|p| p.into_inner()).clone();
    v.sort_unstable();
    let pct = |p: f64| v[((v.len() - 1) as f64 * p) as usize] as f64 / 1e6;
    Ok((pct(0.50), pct(0.99)))
}

async fn idle(b: &dyn BenchBackend, o: &Options) -> Result<f64, Error> {
    let counting = Arc::new(Counting::new(b.fresh().await?));
    let worker = Worker::new(counting.clone())
        .handle(KIND, |_job| async { Ok(()) })
        .concurrency(o.concurrency)
        .start()?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = counting.calls();
    tokio::time::sleep(o.window).await;
    let calls = counting.calls() - before;
    worker.shutdown(Duration::from_secs(5)).await;
    Ok(calls as f64 / o.window.as_secs_f64())
}
