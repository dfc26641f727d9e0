//! The measurements of one backend, each on a fresh queue removed right after.
//!
//! - Bulk enqueue: `--jobs` no-op jobs into an empty queue, one `enqueue_batch` of 1,000
//!   at a time. Raw: the same count of rows, one statement (Redis: several pipelines) of
//!   1,000 at a time.
//! - Drain, once per backlog N: N queued no-op jobs (filled untimed, several chunks in
//!   flight where the store takes it), then the time a [`Worker`] takes to complete all
//!   N; figure N / elapsed. Raw: N rows claimed and deleted 100 at a time.
//! - Latency at backlog N: enqueue-to-start times of jobs offered at `--rate` for the
//!   window, while N other jobs sit in the same queue *scheduled an hour ahead*. So the
//!   tables, indexes and sorted sets are as big as with N queued jobs, but the timed jobs
//!   do not wait behind them: a backlog of due jobs would measure the drain again (N /
//!   drain rate), not what the size of the store costs a fresh job.
//! - Idle: the backend calls per second of a worker with nothing to do.
//! - Limits: the drain of `--jobs` jobs spread over [`KEYS`] concurrency keys with
//!   `Limit::per_key(1)` stored for their kind, beside the same drain unlimited, runs
//!   alternating.
//!
//! With `--repeat K` the enqueue and drain figures are the median of K runs, the queue's
//! and the raw baseline's alternating.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use queue_core::{Job, Limit, NewJob, Queue, Worker};
use serde::Serialize;

use crate::args::Options;
use crate::backends::BenchBackend;
use crate::chunks::in_chunks;
use crate::counting::Counting;
use crate::raw::RawBaseline;
use crate::Error;

const KIND: &str = "bench";
/// Concurrency keys of the limited drain, given to the jobs in turn.
pub const KEYS: usize = 10_000;
/// Longest wait for a drain or the last latency job before giving up.
const PATIENCE: Duration = Duration::from_secs(600);
/// How far ahead the latency measurement's backlog is scheduled.
const BACKLOG_AHEAD: Duration = Duration::from_secs(3_600);

/// The drain at one backlog.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Drain {
    /// Jobs queued when the drain started.
    pub backlog: usize,
    /// Jobs/s through the worker.
    pub per_s: f64,
    /// Rows/s of the raw baseline at the same backlog.
    pub raw_per_s: Option<f64>,
    /// `per_s` as a percentage of `raw_per_s`.
    pub pct_of_raw: Option<f64>,
}

/// The latency beside one backlog.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Latency {
    /// Jobs scheduled an hour ahead in the queue meanwhile.
    pub backlog: usize,
    /// Median enqueue-to-start time.
    pub p50_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
}

/// One backend's figures.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Row {
    pub backend: String,
    /// The server's version (`None` for memory).
    pub server_version: Option<String>,
    /// Jobs of the bulk enqueue.
    pub jobs: usize,
    pub concurrency: usize,
    pub enqueue_per_s: f64,
    pub raw_enqueue_per_s: Option<f64>,
    pub enqueue_pct_of_raw: Option<f64>,
    /// The drain at the smallest backlog (the only one without `--backlog`).
    pub drain_per_s: f64,
    /// The drain at each backlog, ascending.
    pub drains: Vec<Drain>,
    /// Drain at the largest backlog as a percentage of the smallest; `None` with one.
    pub flat_ratio_pct: Option<f64>,
    /// The same for the raw baseline.
    pub raw_flat_ratio_pct: Option<f64>,
    pub latency_rate: u32,
    /// Latency at the smallest backlog.
    pub latency_p50_ms: f64,
    pub latency_p99_ms: f64,
    /// Latency at each backlog, ascending.
    pub latencies: Vec<Latency>,
    pub idle_calls_per_s: f64,
    /// The drain of `jobs` with the worker's metrics off and on (a Prometheus recorder
    /// installed for the whole run), runs alternating.
    pub metrics: MetricsCost,
    /// The drain of `jobs` over [`KEYS`] keys limited to one running job each, beside the
    /// same drain without limits, runs alternating.
    pub limits: LimitCost,
}

/// What a per-key limit costs the drain.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct LimitCost {
    pub unlimited_per_s: f64,
    pub limited_per_s: f64,
    /// The limited drain as a percentage of the unlimited one.
    pub pct_of_unlimited: f64,
}

/// The jobs a drain runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Workload {
    /// No-op jobs, no limits.
    Plain,
    /// No-op jobs with their metrics recorded.
    Metered,
    /// No-op jobs over [`KEYS`] concurrency keys, `Limit::per_key(1)`.
    PerKey,
}

/// What recording metrics costs the drain.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct MetricsCost {
    pub off_per_s: f64,
    pub on_per_s: f64,
    /// How much slower the drain is with metrics on, in % of off (negative: faster, noise).
    pub cost_pct: f64,
}

/// `part` as a percentage of `whole`.
pub fn pct(part: f64, whole: Option<f64>) -> Option<f64> {
    whole.filter(|w| *w > 0.0).map(|w| 100.0 * part / w)
}

/// The median of `runs` (the mean of the middle two for an even count); 0 for none.
pub fn median(mut runs: Vec<f64>) -> f64 {
    runs.sort_unstable_by(f64::total_cmp);
    match runs.len() {
        0 => 0.0,
        n if n % 2 == 1 => runs[n / 2],
        n => (runs[n / 2 - 1] + runs[n / 2]) / 2.0,
    }
}

/// The last of `rates` as a percentage of the first; `None` for fewer than two.
pub fn flat_ratio(rates: &[f64]) -> Option<f64> {
    match rates {
        [first, .., last] => pct(*last, Some(*first)),
        _ => None,
    }
}

/// Runs every measurement of `b`, raw baselines beside the queue's.
pub async fn all(b: &dyn BenchBackend, o: &Options) -> Result<Row, Error> {
    let raw = b.raw().await?;
    let row = measure(b, raw.as_deref(), o).await;
    if let Some(r) = &raw {
        r.close().await;
    }
    row
}

async fn measure(
    b: &dyn BenchBackend,
    raw: Option<&dyn RawBaseline>,
    o: &Options,
) -> Result<Row, Error> {
    let server_version = match raw {
        Some(r) => Some(r.version().await?),
        None => None,
    };
    if let Some(v) = &server_version {
        eprintln!("server version {v}");
    }

    // Queue and raw alternate, so both see the same moments of a shared machine.
    let (mut queue_runs, mut raw_runs) = (Vec::new(), Vec::new());
    for _ in 0..o.repeat {
        let q = bulk_enqueue(b, o).await?;
        eprintln!("bulk enqueue: {q:.0} jobs/s");
        queue_runs.push(q);
        if let Some(r) = raw {
            let r = r.enqueue(o.jobs).await?;
            eprintln!("raw enqueue: {r:.0} rows/s");
            raw_runs.push(r);
        }
    }
    let enqueue_per_s = median(queue_runs);
    let raw_enqueue_per_s = raw.map(|_| median(raw_runs));

    let mut drains = Vec::new();
    for n in o.drain_sizes() {
        let (mut queue_runs, mut raw_runs) = (Vec::new(), Vec::new());
        for _ in 0..o.repeat {
            let q = drain(b, o, n, Workload::Plain).await?;
            eprintln!("drain of {n}: {q:.0} jobs/s");
            queue_runs.push(q);
            if let Some(r) = raw {
                let r = r.drain(n).await?;
                eprintln!("raw drain of {n}: {r:.0} rows/s");
                raw_runs.push(r);
            }
        }
        let per_s = median(queue_runs);
        let raw_per_s = raw.map(|_| median(raw_runs));
        drains.push(Drain {
            backlog: n,
            per_s,
            raw_per_s,
            pct_of_raw: pct(per_s, raw_per_s),
        });
    }

    let mut latencies = Vec::new();
    for n in o.latency_backlogs() {
        let (p50_ms, p99_ms) = latency(b, o, n).await?;
        let beside = if n == 0 {
            String::new()
        } else {
            format!(" beside {n} jobs due in an hour")
        };
        eprintln!(
            "latency at {}/s{beside}: p50 {p50_ms:.3} ms, p99 {p99_ms:.3} ms",
            o.rate
        );
        latencies.push(Latency {
            backlog: n,
            p50_ms,
            p99_ms,
        });
    }

    let idle = idle(b, o).await?;
    eprintln!("idle worker: {idle:.2} calls/s");

    let (mut off, mut on) = (Vec::new(), Vec::new());
    for _ in 0..o.repeat {
        let r = drain(b, o, o.jobs, Workload::Plain).await?;
        eprintln!("drain of {} without metrics: {r:.0} jobs/s", o.jobs);
        off.push(r);
        let r = drain(b, o, o.jobs, Workload::Metered).await?;
        eprintln!("drain of {} with metrics: {r:.0} jobs/s", o.jobs);
        on.push(r);
    }
    let (off_per_s, on_per_s) = (median(off), median(on));
    let metrics = MetricsCost {
        off_per_s,
        on_per_s,
        cost_pct: pct(off_per_s - on_per_s, Some(off_per_s)).unwrap_or_default(),
    };

    let limits = limit_cost(b, o).await?;

    let rates: Vec<f64> = drains.iter().map(|d| d.per_s).collect();
    let raw_rates: Option<Vec<f64>> = drains.iter().map(|d| d.raw_per_s).collect();
    Ok(Row {
        backend: b.name().to_string(),
        server_version,
        jobs: o.jobs,
        concurrency: o.concurrency,
        enqueue_per_s,
        raw_enqueue_per_s,
        enqueue_pct_of_raw: pct(enqueue_per_s, raw_enqueue_per_s),
        drain_per_s: rates.first().copied().unwrap_or_default(),
        flat_ratio_pct: flat_ratio(&rates),
        raw_flat_ratio_pct: raw_rates.as_deref().and_then(flat_ratio),
        drains,
        latency_rate: o.rate,
        latency_p50_ms: latencies.first().map_or(0.0, |l| l.p50_ms),
        latency_p99_ms: latencies.first().map_or(0.0, |l| l.p99_ms),
        latencies,
        idle_calls_per_s: idle,
        metrics,
        limits,
    })
}

/// The drain over [`KEYS`] keys limited to one running job each, beside the same drain
/// unlimited, runs alternating.
pub async fn limit_cost(b: &dyn BenchBackend, o: &Options) -> Result<LimitCost, Error> {
    let (mut unlimited, mut limited) = (Vec::new(), Vec::new());
    for _ in 0..o.repeat {
        let r = drain(b, o, o.jobs, Workload::Plain).await?;
        eprintln!("drain of {} unlimited: {r:.0} jobs/s", o.jobs);
        unlimited.push(r);
        let r = drain(b, o, o.jobs, Workload::PerKey).await?;
        eprintln!(
            "drain of {} over {KEYS} keys, one at a time each: {r:.0} jobs/s",
            o.jobs
        );
        limited.push(r);
    }
    let (unlimited_per_s, limited_per_s) = (median(unlimited), median(limited));
    Ok(LimitCost {
        unlimited_per_s,
        limited_per_s,
        pct_of_unlimited: pct(limited_per_s, Some(unlimited_per_s)).unwrap_or_default(),
    })
}

fn noop_job(_: usize) -> NewJob {
    Job::new(KIND, serde_json::Value::Null)
}

fn job_due_later(i: usize) -> NewJob {
    noop_job(i).delay(BACKLOG_AHEAD)
}

/// The `i`th job of the limited drain: the keys in turn.
fn keyed_job(i: usize) -> NewJob {
    noop_job(i).concurrency_key(format!("key-{}", i % KEYS))
}

/// Enqueues `n` jobs made by `make` from their numbers, in batches of 1,000, `in_flight`
/// at a time.
async fn fill(
    q: &Arc<dyn Queue>,
    n: usize,
    in_flight: usize,
    make: fn(usize) -> NewJob,
) -> Result<(), Error> {
    in_chunks(n, in_flight, |first, len| {
        let q = q.clone();
        async move {
            q.enqueue_batch((first..first + len).map(make).collect())
                .await?;
            Ok(())
        }
    })
    .await
}

/// Runs `step` on a fresh queue of `b`, then removes that queue whatever happened.
async fn on_fresh<T, F, Fut>(b: &dyn BenchBackend, step: F) -> Result<T, Error>
where
    F: FnOnce(Arc<dyn Queue>) -> Fut,
    Fut: std::future::Future<Output = Result<T, Error>>,
{
    let out = step(b.fresh().await?).await;
    let cleaned = b.cleanup().await;
    // The step's own failure is the one worth reporting.
    let value = out?;
    cleaned?;
    Ok(value)
}

async fn bulk_enqueue(b: &dyn BenchBackend, o: &Options) -> Result<f64, Error> {
    on_fresh(b, |q| async move {
        let t0 = Instant::now();
        fill(&q, o.jobs, 1, noop_job).await?;
        Ok(o.jobs as f64 / t0.elapsed().as_secs_f64())
    })
    .await
}

/// Drains `n` queued jobs of `work`; metered, the worker records its counters and
/// histograms (see `main`: the recorder is installed for the whole run).
async fn drain(b: &dyn BenchBackend, o: &Options, n: usize, work: Workload) -> Result<f64, Error> {
    on_fresh(b, |q| async move {
        if work == Workload::PerKey {
            q.set_limit(KIND, Limit::per_key(1)).await?;
            fill(&q, n, b.fill_in_flight(), keyed_job).await?;
        } else {
            fill(&q, n, b.fill_in_flight(), noop_job).await?;
        }
        let counting = Arc::new(Counting::new(q));
        let t0 = Instant::now();
        let mut worker = Worker::new(counting.clone())
            .handle(KIND, |_job| async { Ok(()) })
            .concurrency(o.concurrency);
        if work == Workload::Metered {
            worker = worker.metrics();
        }
        let worker = worker.start()?;
        let target = n as u64;
        while worker.stats().completed < target {
            if t0.elapsed() > PATIENCE {
                let stats = worker.stats();
                worker.shutdown(Duration::from_secs(5)).await;
                return Err(format!("drain stalled at {stats:?}").into());
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let rate = n as f64 / t0.elapsed().as_secs_f64();
        // How well the worker batches.
        let (claim, ack) = counting.batch_sizes();
        eprintln!("drain: {claim:.1} jobs per claim, {ack:.1} per ack");
        worker.shutdown(Duration::from_secs(5)).await;
        Ok(rate)
    })
    .await
}

async fn latency(b: &dyn BenchBackend, o: &Options, backlog: usize) -> Result<(f64, f64), Error> {
    on_fresh(b, |q| async move {
        fill(&q, backlog, b.fill_in_flight(), job_due_later).await?;
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
                worker.shutdown(Duration::from_secs(5)).await;
                return Err("latency jobs never all ran".into());
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        worker.shutdown(Duration::from_secs(5)).await;
        let mut v = samples.lock().unwrap_or_else(|p| p.into_inner()).clone();
        v.sort_unstable();
        let pct = |p: f64| v[((v.len() - 1) as f64 * p) as usize] as f64 / 1e6;
        Ok((pct(0.50), pct(0.99)))
    })
    .await
}

async fn idle(b: &dyn BenchBackend, o: &Options) -> Result<f64, Error> {
    on_fresh(b, |q| async move {
        let counting = Arc::new(Counting::new(q));
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
    })
    .await
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Small enough to run in a few seconds, with two backlogs.
    fn small() -> Options {
        Options {
            jobs: 2_000,
            backlogs: vec![1_000, 2_500],
            rate: 200,
            window: Duration::from_millis(200),
            ..Options::default()
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn memory_row_has_every_backlog_and_no_raw() {
        let backends = crate::backends::selected(&["memory".into()]);
        let row = all(backends[0].as_ref(), &small()).await.unwrap();
        assert_eq!(row.server_version, None);
        assert_eq!(row.raw_enqueue_per_s, None);
        let backlogs: Vec<usize> = row.drains.iter().map(|d| d.backlog).collect();
        assert_eq!(backlogs, [1_000, 2_500]);
        assert!(row
            .drains
            .iter()
            .all(|d| d.per_s > 0.0 && d.pct_of_raw.is_none()));
        assert!(row.flat_ratio_pct.is_some());
        assert_eq!(row.raw_flat_ratio_pct, None);
        let backlogs: Vec<usize> = row.latencies.iter().map(|l| l.backlog).collect();
        assert_eq!(backlogs, [1_000, 2_500]);
        assert_eq!(row.drain_per_s, row.drains[0].per_s);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_row_compares_with_its_raw_baseline() {
        let backends = crate::backends::selected(&["sqlite".into()]);
        let b = backends[0].as_ref();
        let row = all(b, &small()).await.unwrap();
        b.cleanup().await.unwrap();
        assert!(row.server_version.is_some_and(|v| v.starts_with('3')));
        assert!(row.enqueue_pct_of_raw.is_some_and(|p| p > 0.0));
        assert!(row
            .drains
            .iter()
            .all(|d| d.raw_per_s.is_some() && d.pct_of_raw.is_some()));
        assert!(row.raw_flat_ratio_pct.is_some());
    }

    #[test]
    fn percentages_and_flat_ratio() {
        assert_eq!(pct(50.0, Some(200.0)), Some(25.0));
        assert_eq!(pct(50.0, None), None);
        assert_eq!(pct(50.0, Some(0.0)), None);
        assert_eq!(flat_ratio(&[100.0, 95.0, 90.0]), Some(90.0));
        assert_eq!(flat_ratio(&[100.0]), None);
        assert_eq!(flat_ratio(&[]), None);
    }

    #[test]
    fn median_of_runs() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(vec![7.0]), 7.0);
        assert_eq!(median(vec![]), 0.0);
    }
}
