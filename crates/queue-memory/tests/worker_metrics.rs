//! The worker's metrics, read back from a Prometheus recorder.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use queue_core::{Job, JobError, Queue, Worker};
use queue_memory::MemoryQueue;
use serde_json::json;

/// Runs `f` on a current-thread runtime with a recorder of its own: every task of the
/// worker runs on this thread, inside the recorder's scope, and other tests' metrics
/// never mix in.
fn with_recorder<F: std::future::Future<Output = ()>>(f: impl FnOnce(PrometheusHandle) -> F) {
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    metrics::with_local_recorder(&recorder, || rt.block_on(f(handle)));
}

/// The value of the sample of `name` whose labels include every one of `labels`.
fn sample(text: &str, name: &str, labels: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} ")))
        .find(|l| labels.iter().all(|lab| l.contains(lab)))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[test]
fn counters_and_histograms_per_kind() {
    with_recorder(|prom| async move {
        let q = Arc::new(MemoryQueue::new());
        for i in 0..3 {
            q.enqueue(Job::new("ok", json!(i))).await.unwrap();
        }
        q.enqueue(Job::new("bad", json!(0)).max_attempts(1))
            .await
            .unwrap();
        Worker::new(q.clone())
            .handle("ok", |_job: Job| async { Ok::<(), JobError>(()) })
            .handle("bad", |_job: Job| async {
                Err::<(), _>(JobError::retry("broken"))
            })
            .metrics()
            .run_until_idle()
            .await
            .unwrap();
        let text = prom.render();
        let ok = ["queue=\"default\"", "kind=\"ok\""];
        let bad = ["queue=\"default\"", "kind=\"bad\""];
        assert_eq!(
            sample(&text, "queue_jobs_enqueued_total", &ok),
            Some(3.0),
            "{text}"
        );
        assert_eq!(sample(&text, "queue_jobs_enqueued_total", &bad), Some(1.0));
        assert_eq!(sample(&text, "queue_jobs_started_total", &ok), Some(3.0));
        assert_eq!(sample(&text, "queue_jobs_completed_total", &ok), Some(3.0));
        assert_eq!(sample(&text, "queue_jobs_failed_total", &bad), Some(1.0));
        assert_eq!(sample(&text, "queue_jobs_completed_total", &bad), Some(0.0));
        assert_eq!(
            sample(&text, "queue_job_duration_seconds_count", &ok),
            Some(3.0)
        );
        assert_eq!(
            sample(&text, "queue_job_wait_seconds_count", &bad),
            Some(1.0)
        );
        assert!(text.contains("# HELP queue_jobs_failed_total"), "{text}");
    });
}

#[test]
fn no_metrics_unless_asked() {
    with_recorder(|prom| async move {
        let q = Arc::new(MemoryQueue::new());
        q.enqueue(Job::new("ok", json!(0))).await.unwrap();
        Worker::new(q.clone())
            .handle("ok", |_job: Job| async { Ok::<(), JobError>(()) })
            .run_until_idle()
            .await
            .unwrap();
        let text = prom.render();
        assert_eq!(
            sample(&text, "queue_jobs_started_total", &[]),
            None,
            "{text}"
        );
        // Enqueues are counted by the backend, with or without a worker.
        assert_eq!(
            sample(&text, "queue_jobs_enqueued_total", &["kind=\"ok\""]),
            Some(1.0)
        );
    });
}

#[test]
fn gauges_are_sampled_while_the_worker_runs() {
    with_recorder(|prom| async move {
        let q = Arc::new(MemoryQueue::new());
        let an_hour_ago = time::OffsetDateTime::now_utc() - time::Duration::hours(1);
        // Of a kind the worker does not handle, so they stay pending.
        for i in 0..4 {
            q.enqueue(Job::new("other", json!(i)).run_at(an_hour_ago))
                .await
                .unwrap();
        }
        let worker = Worker::new(q.clone())
            .handle("ok", |_job: Job| async { Ok::<(), JobError>(()) })
            .gauges(q.clone(), Duration::from_millis(100))
            .start()
            .unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        let pending = ["queue=\"default\"", "state=\"pending\""];
        loop {
            let text = prom.render();
            if sample(&text, "queue_jobs", &pending) == Some(4.0) {
                let age = sample(&text, "queue_oldest_due_age_seconds", &[]).unwrap();
                assert!(age >= 3500.0, "due an hour ago: {age}");
                assert_eq!(
                    sample(&text, "queue_jobs", &["state=\"failed\""]),
                    Some(0.0)
                );
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "no gauges: {text}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        worker.shutdown(Duration::from_secs(1)).await;
    });
}
