//! What the worker does with handlers that do not succeed: retry, dead-letter, discard,
//! snooze, panics and timeouts.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use queue_core::{Job, JobError, JobState, RetryPolicy, Worker};

use crate::support::{as_queue, assert_completed, enqueue, get, job, wait_until, Counter, WAIT};
use crate::{Factory, Setup};

const SHUTDOWN: Duration = Duration::from_secs(5);

/// Retries without waiting, so retry checks are quick.
fn immediate() -> Setup {
    Setup::default().retry(RetryPolicy::immediate())
}

/// Waits until job `id` is `failed`.
async fn failed(q: &dyn queue_core::Backend, id: queue_core::JobId) -> Job {
    wait_until("the job to be dead-lettered", WAIT, || async {
        get(q, id).await.state == JobState::Failed
    })
    .await;
    get(q, id).await
}

/// A handler that fails twice and then succeeds completes on attempt 3.
pub async fn retries_until_success(f: &dyn Factory) {
    let q = f.make(immediate()).await;
    let id = enqueue(&*q, job("flaky").max_attempts(5)).await;
    let seen: Arc<Mutex<Vec<u32>>> = Arc::default();
    let s = seen.clone();
    let w = Worker::new(as_queue(&q))
        .handle("flaky", move |job: Job| {
            let s = s.clone();
            async move {
                s.lock().unwrap().push(job.attempts);
                if job.attempts < 3 {
                    return Err(JobError::retry(format!("failure {}", job.attempts)));
                }
                Ok(())
            }
        })
        .start()
        .expect("worker start failed");
    wait_until("the flaky job to complete", WAIT, || async {
        w.stats().completed == 1
    })
    .await;
    let stats = w.stats();
    w.shutdown(SHUTDOWN).await;
    assert_eq!(
        *seen.lock().unwrap(),
        vec![1, 2, 3],
        "attempts seen by the handler"
    );
    assert_eq!(stats.retried, 2);
    assert_completed(&*q, id).await;
    if let Some(j) = q.get_job(id).await.expect("get_job failed") {
        assert_eq!(j.attempts, 3);
    }
}

/// A handler that always fails dead-letters the job after `max_attempts`, with its error.
pub async fn exhausted_retries_dead_letter(f: &dyn Factory) {
    let q = f.make(immediate()).await;
    let id = enqueue(&*q, job("bad").max_attempts(2)).await;
    let calls = Counter::default();
    let c = calls.clone();
    let w = Worker::new(as_queue(&q))
        .handle("bad", move |_job: Job| {
            let c = c.clone();
            async move {
                c.bump();
                Err::<(), _>(JobError::retry("always broken"))
            }
        })
        .start()
        .expect("worker start failed");
    let j = failed(&*q, id).await;
    w.shutdown(SHUTDOWN).await;
    assert_eq!(j.attempts, 2);
    assert_eq!(j.last_error.as_deref(), Some("always broken"));
    assert_eq!(calls.get(), 2, "the handler runs once per attempt");
}

/// `JobError::discard` fails the job after one attempt, whatever attempts remain.
pub async fn discard_fails_after_one_attempt(f: &dyn Factory) {
    let q = f.make(immediate()).await;
    let id = enqueue(&*q, job("d").max_attempts(5)).await;
    let calls = Counter::default();
    let c = calls.clone();
    let w = Worker::new(as_queue(&q))
        .handle("d", move |_job: Job| {
            let c = c.clone();
            async move {
                c.bump();
                Err::<(), _>(JobError::discard("bad input"))
            }
        })
        .start()
        .expect("worker start failed");
    let j = failed(&*q, id).await;
    let stats = w.stats();
    w.shutdown(SHUTDOWN).await;
    assert_eq!(j.attempts, 1);
    let error = j.last_error.unwrap_or_default();
    assert!(error.contains("bad input"), "last_error {error:?}");
    assert_eq!(calls.get(), 1);
    assert_eq!(stats.discarded, 1);
}

/// `JobError::snooze` runs the job again later without using an attempt.
pub async fn snooze_keeps_attempts(f: &dyn Factory) {
    let q = f.make(immediate()).await;
    // One attempt: a snooze that used it would leave none for the second run.
    let id = enqueue(&*q, job("s").max_attempts(1)).await;
    let seen: Arc<Mutex<Vec<u32>>> = Arc::default();
    let s = seen.clone();
    let w = Worker::new(as_queue(&q))
        .handle("s", move |job: Job| {
            let s = s.clone();
            async move {
                let first = {
                    let mut s = s.lock().unwrap();
                    s.push(job.attempts);
                    s.len() == 1
                };
                if first {
                    return Err(JobError::snooze(Duration::from_millis(200)));
                }
                Ok(())
            }
        })
        .start()
        .expect("worker start failed");
    wait_until(
        "the snoozed job to run again and complete",
        WAIT,
        || async { w.stats().completed == 1 },
    )
    .await;
    let stats = w.stats();
    w.shutdown(SHUTDOWN).await;
    assert_eq!(
        *seen.lock().unwrap(),
        vec![1, 1],
        "attempts seen by the handler"
    );
    assert_eq!(stats.snoozed, 1);
    assert_completed(&*q, id).await;
}

/// A panicking handler is a failed attempt: the job is retried (or dead-lettered with the
/// panic message) and the worker keeps running other jobs.
pub async fn panic_is_failed_attempt(f: &dyn Factory) {
    let q = f.make(immediate()).await;
    let flaky = enqueue(&*q, job("boom").max_attempts(3)).await;
    let doomed = enqueue(&*q, job("doom").max_attempts(1)).await;
    let seen: Arc<Mutex<Vec<u32>>> = Arc::default();
    let ok_ran = Counter::default();
    let (s, o) = (seen.clone(), ok_ran.clone());
    let w = Worker::new(as_queue(&q))
        .handle("boom", move |job: Job| {
            let s = s.clone();
            async move {
                s.lock().unwrap().push(job.attempts);
                if job.attempts == 1 {
                    panic!("first attempt blows up");
                }
                Ok(())
            }
        })
        .handle("doom", |_job: Job| async move {
            if true {
                panic!("kaboom");
            }
            Ok(())
        })
        .handle("ok", move |_job: Job| {
            let o = o.clone();
            async move {
                o.bump();
                Ok(())
            }
        })
        .start()
        .expect("worker start failed");

    let j = failed(&*q, doomed).await;
    assert_eq!(j.attempts, 1);
    let error = j.last_error.unwrap_or_default();
    assert!(
        error.contains("kaboom"),
        "last_error should carry the panic, got {error:?}"
    );
    wait_until("the job that panicked once to complete", WAIT, || async {
        seen.lock().unwrap().len() == 2 && w.stats().completed >= 1
    })
    .await;
    assert_eq!(*seen.lock().unwrap(), vec![1, 2]);
    assert_completed(&*q, flaky).await;

    // The worker is still alive after two panics.
    for _ in 0..3 {
        enqueue(&*q, job("ok")).await;
    }
    wait_until("jobs after the panics to run", WAIT, || async {
        ok_ran.get() == 3
    })
    .await;
    let stats = w.stats();
    w.shutdown(SHUTDOWN).await;
    assert_eq!(stats.panicked, 2);
}

/// A handler running past `handler_timeout` (and ignoring its cancellation token for the
/// grace that follows) is stopped and counted as a failed attempt with a timeout error.
pub async fn handler_timeout_is_failed_attempt(f: &dyn Factory) {
    let q = f.make(immediate()).await;
    let id = enqueue(&*q, job("slow").max_attempts(1)).await;
    let finished = Counter::default();
    let fin = finished.clone();
    let w = Worker::new(as_queue(&q))
        .handle("slow", move |_job: Job| {
            let fin = fin.clone();
            async move {
                tokio::time::sleep(Duration::from_secs(30)).await;
                fin.bump();
                Ok(())
            }
        })
        .handler_timeout(Duration::from_millis(100))
        .cancel_grace(Duration::from_millis(100))
        .start()
        .expect("worker start failed");
    let j = failed(&*q, id).await;
    let stats = w.stats();
    w.shutdown(SHUTDOWN).await;
    assert_eq!(j.attempts, 1);
    let error = j.last_error.unwrap_or_default().to_lowercase();
    assert!(
        error.contains("timed out") || error.contains("timeout"),
        "last_error should say the handler timed out, got {error:?}"
    );
    assert_eq!(finished.get(), 0, "the timed-out handler must be stopped");
    assert_eq!(stats.timed_out, 1);
}
