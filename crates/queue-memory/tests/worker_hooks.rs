//! Lifecycle hooks: what a worker tells observers as jobs start and finish.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use queue_core::{
    Job, JobContext, JobError, JobFinished, JobId, JobStarted, Queue, RunOutcome, Worker,
    WorkerHook,
};
use queue_memory::MemoryQueue;
use serde_json::json;
use time::OffsetDateTime;

#[derive(Debug, Clone)]
struct Started {
    id: JobId,
    kind: String,
    attempt: u32,
    waited: Duration,
}

#[derive(Debug, Clone)]
struct Finished {
    id: JobId,
    kind: String,
    outcome: RunOutcome,
    ran: Duration,
}

#[derive(Default, Clone)]
struct Recorder {
    started: Arc<Mutex<Vec<Started>>>,
    finished: Arc<Mutex<Vec<Finished>>>,
}

impl WorkerHook for Recorder {
    fn job_started(&self, job: &JobStarted<'_>) {
        assert_eq!(job.queue, "default");
        self.started.lock().unwrap().push(Started {
            id: job.id,
            kind: job.kind.to_string(),
            attempt: job.attempt,
            waited: job.waited,
        });
    }

    fn job_finished(&self, job: &JobFinished<'_>) {
        self.finished.lock().unwrap().push(Finished {
            id: job.id,
            kind: job.kind.to_string(),
            outcome: job.outcome.clone(),
            ran: job.ran,
        });
    }
}

impl Recorder {
    fn outcome_of(&self, id: JobId) -> Vec<RunOutcome> {
        let finished = self.finished.lock().unwrap();
        finished
            .iter()
            .filter(|f| f.id == id)
            .map(|f| f.outcome.clone())
            .collect()
    }
}

#[tokio::test]
async fn hooks_see_every_start_and_recorded_outcome() {
    let q = Arc::new(MemoryQueue::new());
    let an_hour_ago = OffsetDateTime::now_utc() - time::Duration::hours(1);
    let ok = q
        .enqueue(Job::new("ok", json!(1)).run_at(an_hour_ago))
        .await
        .unwrap();
    let flaky = q
        .enqueue(Job::new("flaky", json!(2)).max_attempts(2))
        .await
        .unwrap();
    let bad = q
        .enqueue(Job::new("bad", json!(3)).max_attempts(1))
        .await
        .unwrap();
    let discard = q.enqueue(Job::new("discard", json!(4))).await.unwrap();
    let snooze = q.enqueue(Job::new("snooze", json!(5))).await.unwrap();
    let hook = Recorder::default();
    let report = Worker::new(q.clone())
        .handle("ok", |_job: Job| async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok::<(), JobError>(())
        })
        .handle("flaky", |_job: Job| async {
            Err::<(), _>(JobError::retry("not yet"))
        })
        .handle("bad", |_job: Job| async {
            Err::<(), _>(JobError::retry("broken"))
        })
        .handle("discard", |_job: Job| async {
            Err::<(), _>(JobError::discard("unwanted"))
        })
        .handle("snooze", |_job: Job| async {
            Err::<(), _>(JobError::snooze(Duration::from_secs(3600)))
        })
        .hook(hook.clone())
        .run_until_idle()
        .await
        .unwrap();
    assert_eq!(report.jobs.len(), 5, "{report:?}");

    let started = hook.started.lock().unwrap().clone();
    assert_eq!(started.len(), 5, "{started:?}");
    let s_ok = started.iter().find(|s| s.id == ok).unwrap();
    assert_eq!((s_ok.kind.as_str(), s_ok.attempt), ("ok", 1));
    assert!(
        s_ok.waited >= Duration::from_secs(3500),
        "a job due an hour ago waited about an hour: {s_ok:?}"
    );

    assert_eq!(hook.outcome_of(ok), vec![RunOutcome::Completed]);
    assert_eq!(
        hook.outcome_of(flaky),
        vec![RunOutcome::Retried("not yet".into())]
    );
    assert_eq!(
        hook.outcome_of(bad),
        vec![RunOutcome::Failed("broken".into())]
    );
    assert_eq!(
        hook.outcome_of(discard),
        vec![RunOutcome::Discarded("unwanted".into())]
    );
    assert_eq!(
        hook.outcome_of(snooze),
        vec![RunOutcome::Snoozed(Duration::from_secs(3600))]
    );
    let finished = hook.finished.lock().unwrap().clone();
    let f_ok = finished.iter().find(|f| f.id == ok).unwrap();
    assert_eq!(f_ok.kind, "ok");
    assert!(
        f_ok.ran >= Duration::from_millis(20),
        "the handler slept 20 ms: {f_ok:?}"
    );
}

#[tokio::test]
async fn a_cancel_request_finishes_the_run_as_cancelled() {
    let q = Arc::new(MemoryQueue::new());
    let id = q.enqueue(Job::new("wait", json!(null))).await.unwrap();
    let hook = Recorder::default();
    let worker = Worker::new(q.clone())
        .handle("wait", |_job: Job, ctx: JobContext| async move {
            ctx.cancelled().await;
            Err::<(), _>(JobError::retry("stopped"))
        })
        .hook(hook.clone())
        .start()
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while hook.started.lock().unwrap().is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the job never started"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    q.cancel(id).await.unwrap();
    while hook.finished.lock().unwrap().is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the run never finished"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let stats = worker.stats();
    worker.shutdown(Duration::from_secs(5)).await;
    assert_eq!(hook.outcome_of(id), vec![RunOutcome::Cancelled]);
    assert_eq!((stats.cancelled, stats.returned), (1, 0), "{stats:?}");
}
