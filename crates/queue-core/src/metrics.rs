//! Metrics through the [`metrics`](https://docs.rs/metrics) facade: whatever recorder the
//! application installs (Prometheus, StatsD, …) receives them. Nothing is recorded
//! before a recorder is installed, and without the `metrics` feature (on by default)
//! every call here does nothing.
//!
//! | name | type | labels | from |
//! |---|---|---|---|
//! | `queue_jobs_enqueued_total` | counter | queue, kind | every backend's enqueue |
//! | `queue_jobs_started_total` | counter | queue, kind | [`Worker::metrics`] |
//! | `queue_jobs_completed_total` | counter | queue, kind | [`Worker::metrics`] |
//! | `queue_jobs_retried_total` | counter | queue, kind | [`Worker::metrics`] (failed attempts with attempts left) |
//! | `queue_jobs_failed_total` | counter | queue, kind | [`Worker::metrics`] (dead-lettered: attempts used up, or discarded) |
//! | `queue_jobs_cancelled_total` | counter | queue, kind | [`Worker::metrics`] (runs stopped by a cancel request) |
//! | `queue_jobs_snoozed_total` | counter | queue, kind | [`Worker::metrics`] |
//! | `queue_jobs_returned_total` | counter | queue, kind | [`Worker::metrics`] (runs cut short, back in the queue) |
//! | `queue_job_duration_seconds` | histogram | queue, kind | [`Worker::metrics`]: how long handlers ran |
//! | `queue_job_wait_seconds` | histogram | queue, kind | [`Worker::metrics`]: from due to start |
//! | `queue_jobs` | gauge | queue, state | [`Worker::gauges`]: jobs per state |
//! | `queue_oldest_due_age_seconds` | gauge | queue | [`Worker::gauges`]: how long the longest-waiting due job has waited (0 when none) |
//!
//! The `queue` label is [`Queue::name`](crate::Queue::name). Install the recorder before
//! starting workers: a worker takes its handles when it starts.
//!
//! ```
//! # async fn demo(queue: std::sync::Arc<dyn queue_core::Backend>) -> queue_core::Result<()> {
//! use std::time::Duration;
//! use queue_core::{Job, JobError, Worker};
//! // metrics_exporter_prometheus::PrometheusBuilder::new().install_recorder()?;
//! let worker = Worker::new(queue.clone())
//!     .handle("email", |_job: Job| async { Ok::<(), JobError>(()) })
//!     .metrics()
//!     .gauges(queue.clone(), Duration::from_secs(15))
//!     .start()?;
//! # worker.shutdown(Duration::from_secs(1)).await;
//! # Ok(()) }
//! ```
//!
//! [`Worker::metrics`]: crate::Worker::metrics
//! [`Worker::gauges`]: crate::Worker::gauges

use crate::NewJob;

#[cfg(feature = "metrics")]
mod enabled;

#[cfg(feature = "metrics")]
#[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
pub use enabled::sample_gauges;
#[cfg(feature = "metrics")]
pub(crate) use enabled::WorkerMetrics;

/// The kinds of a batch a backend is about to store, counted as
/// `queue_jobs_enqueued_total` once it is stored. For backend crates:
///
/// ```
/// # use queue_core::{metrics::Enqueued, Job};
/// let jobs = vec![Job::new("email", serde_json::json!(1)), Job::new("email", serde_json::json!(2))];
/// let count = Enqueued::of(&jobs);
/// // … store `jobs`; then, only if that succeeded:
/// count.record("default");
/// ```
#[derive(Debug, Default)]
pub struct Enqueued {
    /// Runs of equal kinds, in order: batches are mostly one kind, so this is mostly
    /// one entry and one counter update.
    #[cfg(feature = "metrics")]
    runs: Vec<(String, u64)>,
}

impl Enqueued {
    /// Notes the kinds of `jobs` (nothing without the `metrics` feature).
    pub fn of(jobs: &[NewJob]) -> Enqueued {
        #[cfg(feature = "metrics")]
        {
            let mut runs: Vec<(String, u64)> = Vec::new();
            for job in jobs {
                match runs.last_mut() {
                    Some((kind, n)) if *kind == job.kind => *n += 1,
                    _ => runs.push((job.kind.clone(), 1)),
                }
            }
            Enqueued { runs }
        }
        #[cfg(not(feature = "metrics"))]
        {
            let _ = jobs;
            Enqueued {}
        }
    }

    /// Counts the jobs as enqueued on `queue` ([`Queue::name`](crate::Queue::name)).
    pub fn record(self, queue: &str) {
        #[cfg(feature = "metrics")]
        enabled::record_enqueued(queue, self.runs);
        #[cfg(not(feature = "metrics"))]
        let _ = queue;
    }
}
