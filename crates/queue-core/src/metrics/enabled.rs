//! The recording side of [`super`], with the `metrics` feature.

use std::sync::{Arc, Once};
use std::time::Duration;

use ::metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};
use ::metrics::{Counter, Gauge, Histogram, Unit};

use crate::worker::{JobFinished, JobStarted, RunOutcome, WorkerHook};
use crate::{Browsable, JobState};

static DESCRIBED: Once = Once::new();

/// Gives every metric its help text, once per process: for the enqueue path, which runs
/// per call and must not pay for descriptions each time.
fn describe_once() {
    DESCRIBED.call_once(describe);
}

/// Gives every metric its help text in the current recorder. Called again by each worker
/// and gauge sampler as it starts (rare, and cheap), so a recorder installed after the first
/// enqueue, or a thread-local one, still gets the texts.
fn describe() {
    describe_counter!(
        "queue_jobs_enqueued_total",
        Unit::Count,
        "Jobs accepted by the queue."
    );
    describe_counter!(
        "queue_jobs_started_total",
        Unit::Count,
        "Handler runs started."
    );
    describe_counter!(
        "queue_jobs_completed_total",
        Unit::Count,
        "Runs that completed their job."
    );
    describe_counter!(
        "queue_jobs_retried_total",
        Unit::Count,
        "Failed attempts with attempts left (the job runs again after a backoff)."
    );
    describe_counter!(
        "queue_jobs_failed_total",
        Unit::Count,
        "Jobs dead-lettered: attempts used up, or discarded by their handler."
    );
    describe_counter!(
        "queue_jobs_cancelled_total",
        Unit::Count,
        "Runs stopped by a cancel request."
    );
    describe_counter!(
        "queue_jobs_snoozed_total",
        Unit::Count,
        "Runs that snoozed their job."
    );
    describe_counter!(
        "queue_jobs_returned_total",
        Unit::Count,
        "Runs cut short (shutdown, lost lease) with the job back in the queue."
    );
    describe_histogram!(
        "queue_job_duration_seconds",
        Unit::Seconds,
        "How long handlers ran."
    );
    describe_histogram!(
        "queue_job_wait_seconds",
        Unit::Seconds,
        "How long jobs waited from when they fell due to when their handler started."
    );
    describe_gauge!("queue_jobs", Unit::Count, "Jobs per state, sampled.");
    describe_gauge!(
        "queue_oldest_due_age_seconds",
        Unit::Seconds,
        "How long the longest-waiting due job has waited (0 when none), sampled."
    );
}

pub(crate) fn record_enqueued(queue: &str, runs: Vec<(String, u64)>) {
    describe_once();
    for (kind, n) in runs {
        counter!("queue_jobs_enqueued_total", "queue" => queue.to_owned(), "kind" => kind)
            .increment(n);
    }
}

/// The handles of one kind, taken once when the worker starts: recording is then an
/// atomic add, with no label lookup per job.
struct KindMetrics {
    started: Counter,
    completed: Counter,
    retried: Counter,
    failed: Counter,
    cancelled: Counter,
    snoozed: Counter,
    returned: Counter,
    duration: Histogram,
    wait: Histogram,
}

impl KindMetrics {
    fn new(queue: &str, kind: &str) -> KindMetrics {
        let labels = [("queue", queue.to_owned()), ("kind", kind.to_owned())];
        KindMetrics {
            started: counter!("queue_jobs_started_total", &labels),
            completed: counter!("queue_jobs_completed_total", &labels),
            retried: counter!("queue_jobs_retried_total", &labels),
            failed: counter!("queue_jobs_failed_total", &labels),
            cancelled: counter!("queue_jobs_cancelled_total", &labels),
            snoozed: counter!("queue_jobs_snoozed_total", &labels),
            returned: counter!("queue_jobs_returned_total", &labels),
            duration: histogram!("queue_job_duration_seconds", &labels),
            wait: histogram!("queue_job_wait_seconds", &labels),
        }
    }
}

/// The hook behind [`Worker::metrics`](crate::Worker::metrics), made for one worker's
/// kinds.
pub(crate) struct WorkerMetrics {
    /// Sorted, as the worker keeps them.
    kinds: Vec<Arc<str>>,
    per_kind: Vec<KindMetrics>,
}

impl WorkerMetrics {
    pub fn new(queue: &str, kinds: &[Arc<str>]) -> WorkerMetrics {
        describe();
        WorkerMetrics {
            kinds: kinds.to_vec(),
            per_kind: kinds.iter().map(|k| KindMetrics::new(queue, k)).collect(),
        }
    }

    fn of(&self, kind: &str) -> Option<&KindMetrics> {
        let i = self.kinds.binary_search_by(|k| (**k).cmp(kind)).ok()?;
        self.per_kind.get(i)
    }
}

impl WorkerHook for WorkerMetrics {
    fn job_started(&self, job: &JobStarted<'_>) {
        if let Some(m) = self.of(job.kind) {
            m.started.increment(1);
            m.wait.record(job.waited.as_secs_f64());
        }
    }

    fn job_finished(&self, job: &JobFinished<'_>) {
        let Some(m) = self.of(job.kind) else {
            return;
        };
        let counter = match job.outcome {
            RunOutcome::Completed => &m.completed,
            RunOutcome::Retried(_) => &m.retried,
            RunOutcome::Failed(_) | RunOutcome::Discarded(_) => &m.failed,
            RunOutcome::Cancelled => &m.cancelled,
            RunOutcome::Snoozed(_) => &m.snoozed,
            RunOutcome::Returned => &m.returned,
        };
        counter.increment(1);
        m.duration.record(job.ran.as_secs_f64());
    }
}

/// Samples the counts per state and the oldest due job's age from `source` every `every`
/// into the gauges `queue_jobs` and `queue_oldest_due_age_seconds`, labelled `queue`;
/// never returns (drop or abort it to stop). [`Worker::gauges`](crate::Worker::gauges)
/// runs it beside a worker; a process with no worker (a dashboard, say) can run it on its
/// own. A failing read is logged once per outage and sampled again at the next tick.
///
/// ```no_run
/// # async fn demo(queue: std::sync::Arc<dyn queue_core::Backend>) {
/// use std::time::Duration;
/// let name = queue.name().to_owned();
/// tokio::spawn(queue_core::metrics::sample_gauges(name.into(), queue, Duration::from_secs(15)));
/// # }
/// ```
pub async fn sample_gauges(queue: Arc<str>, source: Arc<dyn Browsable>, every: Duration) {
    describe();
    let per_state: Vec<(JobState, Gauge)> = JobState::ALL
        .into_iter()
        .map(|s| {
            let g = gauge!("queue_jobs", "queue" => queue.to_string(), "state" => s.as_str());
            (s, g)
        })
        .collect();
    let oldest = gauge!("queue_oldest_due_age_seconds", "queue" => queue.to_string());
    let mut failing = false;
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        // Each read on its own: a backend that cannot answer one still gives the other.
        let stats = source.stats().await.map(|stats| {
            for (state, g) in &per_state {
                g.set(stats.get(*state) as f64);
            }
        });
        let due = source.oldest_due().await.map(|due| {
            let age = due.map_or(0.0, |at| {
                (time::OffsetDateTime::now_utc() - at)
                    .as_seconds_f64()
                    .max(0.0)
            });
            oldest.set(age);
        });
        match stats.and(due) {
            Ok(()) => failing = false,
            // Once per outage: a sampler that cannot reach the backend would otherwise
            // log at every tick.
            Err(e) if !failing => {
                failing = true;
                tracing::warn!(%queue, error = %e, "sampling the queue's gauges failed");
            }
            Err(_) => {}
        }
    }
}
