//! A job that fails for good is logged at WARN with its id, kind, attempts and error, so
//! operators see it without debug logging.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use queue_core::{Browsable, Job, JobError, JobId, JobState, Queue, Worker};
use queue_memory::MemoryQueue;
use queue_testkit::support::wait_until;
use serde_json::json;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

const WAIT: Duration = Duration::from_secs(10);

/// One captured event: its level and fields (the message under "message").
#[derive(Debug)]
struct Captured {
    level: Level,
    fields: HashMap<String, String>,
}

/// Keeps every event.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<Captured>>>);

struct Fields<'a>(&'a mut HashMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0
            .insert(field.name().to_string(), format!("{value:?}"));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_string(), value.to_string());
    }
}

impl<S: Subscriber> Layer<S> for Capture {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut fields = HashMap::new();
        event.record(&mut Fields(&mut fields));
        self.0.lock().unwrap().push(Captured {
            level: *event.metadata().level(),
            fields,
        });
    }
}

impl Capture {
    /// The WARN events about job `id`.
    fn warnings_about(&self, id: JobId) -> Vec<HashMap<String, String>> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e.level == Level::WARN)
            .filter(|e| e.fields.get("id") == Some(&id.to_string()))
            .map(|e| e.fields.clone())
            .collect()
    }
}

/// Runs a worker whose handler fails every job with `error` until `id` has failed.
async fn fail_for_good(error: JobError, job: queue_core::NewJob) -> (Capture, JobId) {
    let capture = Capture::default();
    // Events of the worker's tasks: a current-thread runtime runs them on this thread.
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(capture.clone()));
    let memory = Arc::new(
        MemoryQueue::builder()
            .retry(queue_core::RetryPolicy::immediate())
            .build(),
    );
    let id = memory.enqueue(job).await.unwrap();
    let worker = Worker::new(memory.clone())
        .handle("report", move |_job: Job| {
            let error = error.clone();
            async move { Err::<(), _>(error) }
        })
        .start()
        .unwrap();
    wait_until("the job to fail", WAIT, || async {
        memory.get_job(id).await.unwrap().unwrap().state == JobState::Failed
    })
    .await;
    worker.shutdown(Duration::from_secs(5)).await;
    (capture, id)
}

fn assert_one_warning(capture: &Capture, id: JobId, attempts: &str, error: &str) {
    let warnings = capture.warnings_about(id);
    assert_eq!(
        warnings.len(),
        1,
        "one WARN for the failed job: {warnings:?}"
    );
    let w = &warnings[0];
    assert_eq!(w.get("kind").map(String::as_str), Some("report"), "{w:?}");
    assert_eq!(
        w.get("attempts").map(String::as_str),
        Some(attempts),
        "{w:?}"
    );
    assert!(
        w.get("error").is_some_and(|e| e.contains(error)),
        "the error is logged: {w:?}"
    );
}

#[tokio::test]
async fn a_dead_lettered_job_is_logged_at_warn() {
    let job = Job::new("report", json!(1)).max_attempts(2);
    let (capture, id) = fail_for_good(JobError::retry("printer on fire"), job).await;
    assert_one_warning(&capture, id, "2", "printer on fire");
}

#[tokio::test]
async fn a_discarded_job_is_logged_at_warn() {
    let job = Job::new("report", json!(1));
    let (capture, id) = fail_for_good(JobError::discard("no such customer"), job).await;
    assert_one_warning(&capture, id, "1", "no such customer");
}
