//! `Worker::run_until_idle`: running what is due, for tests of code that enqueues jobs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use queue_core::{Job, JobError, JobId, JobState, RetryPolicy, RunOutcome, Worker};

use crate::support::{as_queue, assert_completed, enqueue, get, job};
use crate::{Factory, Setup};

/// Runs every job due now once per attempt, retries with no backoff included, leaves
/// delayed and snoozed jobs alone, and reports each run's outcome; a second run finds
/// nothing to do.
pub async fn run_until_idle_runs_every_due_job(f: &dyn Factory) {
    let q = f
        .make(Setup::default().retry(RetryPolicy::immediate()))
        .await;
    let ok = enqueue(&*q, job("ok")).await;
    let flaky = enqueue(&*q, job("flaky").max_attempts(3)).await;
    let bad = enqueue(&*q, job("bad").max_attempts(1)).await;
    let discard = enqueue(&*q, job("discard")).await;
    let snooze = enqueue(&*q, job("snooze")).await;
    let boom = enqueue(&*q, job("boom").max_attempts(1)).await;
    let later = enqueue(&*q, job("ok").delay(Duration::from_secs(3600))).await;
    let runs: Arc<Mutex<HashMap<JobId, Vec<u32>>>> = Arc::default();
    let r = runs.clone();
    let handler = move |job: Job| {
        let r = r.clone();
        async move {
            r.lock()
                .unwrap()
                .entry(job.id)
                .or_default()
                .push(job.attempts);
            match job.kind.as_str() {
                "flaky" if job.attempts == 1 => Err(JobError::retry("first try fails")),
                "bad" => Err(JobError::retry("always fails")),
                "discard" => Err(JobError::discard("not wanted")),
                "snooze" => Err(JobError::snooze(Duration::from_secs(3600))),
                "boom" => panic!("handler blew up"),
                _ => Ok(()),
            }
        }
    };
    let worker = |q| {
        ["ok", "flaky", "bad", "discard", "snooze", "boom"]
            .into_iter()
            .fold(Worker::new(q), |w, kind| w.handle(kind, handler.clone()))
            .concurrency(4)
    };
    let report = worker(as_queue(&q))
        .run_until_idle()
        .await
        .expect("run_until_idle failed");

    let runs = runs.lock().unwrap().clone();
    let expected_runs: HashMap<JobId, Vec<u32>> = [
        (ok, vec![1]),
        (flaky, vec![1, 2]),
        (bad, vec![1]),
        (discard, vec![1]),
        (snooze, vec![1]),
        (boom, vec![1]),
    ]
    .into_iter()
    .collect();
    assert_eq!(runs, expected_runs, "attempts run per job");

    let outcomes = |id| -> Vec<(u32, RunOutcome)> {
        report
            .runs_of(id)
            .map(|j| (j.attempt, j.outcome.clone()))
            .collect()
    };
    assert_eq!(outcomes(ok), vec![(1, RunOutcome::Completed)]);
    assert_eq!(
        outcomes(flaky),
        vec![
            (1, RunOutcome::Retried("first try fails".into())),
            (2, RunOutcome::Completed)
        ]
    );
    assert_eq!(
        outcomes(bad),
        vec![(1, RunOutcome::Failed("always fails".into()))]
    );
    assert_eq!(
        outcomes(discard),
        vec![(1, RunOutcome::Discarded("not wanted".into()))]
    );
    assert_eq!(
        outcomes(snooze),
        vec![(1, RunOutcome::Snoozed(Duration::from_secs(3600)))]
    );
    match outcomes(boom).as_slice() {
        [(1, RunOutcome::Failed(e))] if e.contains("blew up") => {}
        other => panic!("a panicking handler fails its last attempt, got {other:?}"),
    }
    assert!(
        outcomes(later).is_empty(),
        "a delayed job is not waited for"
    );
    assert_eq!(report.jobs.len(), 7);
    let kinds: HashMap<JobId, &str> = [
        (ok, "ok"),
        (flaky, "flaky"),
        (bad, "bad"),
        (discard, "discard"),
        (snooze, "snooze"),
        (boom, "boom"),
    ]
    .into_iter()
    .collect();
    for j in &report.jobs {
        assert_eq!(Some(&j.kind.as_str()), kinds.get(&j.id), "kind of {j:?}");
    }
    assert_eq!(
        (
            report.completed,
            report.retried,
            report.failed,
            report.discarded,
            report.snoozed,
            report.cancelled,
            report.returned
        ),
        (2, 1, 2, 1, 1, 0, 0)
    );

    assert_completed(&*q, ok).await;
    assert_completed(&*q, flaky).await;
    assert_eq!(get(&*q, bad).await.state, JobState::Failed);
    assert_eq!(get(&*q, discard).await.state, JobState::Failed);
    assert_eq!(get(&*q, snooze).await.state, JobState::Pending);
    let l = get(&*q, later).await;
    assert_eq!((l.state, l.attempts), (JobState::Pending, 0));

    let again = worker(as_queue(&q))
        .run_until_idle()
        .await
        .expect("second run_until_idle failed");
    assert!(again.jobs.is_empty(), "nothing was due: {again:?}");
}
