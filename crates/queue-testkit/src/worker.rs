//! The worker pool over a backend: running jobs, kind selection, limits, pause/resume,
//! typed handlers and wake-ups.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use queue_core::{
    Backend, Job, JobArgs, JobError, JobId, JobState, ShutdownReport, Worker, WorkerHandle,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::support::{
    as_queue, assert_completed, enqueue, get, job, wait_until, Counter, InFlight, WAIT,
};
use crate::{Factory, Setup};

/// Time for a shutdown of a worker whose jobs are done.
const SHUTDOWN: Duration = Duration::from_secs(5);

/// Waits until the backend has no pending or running job left.
async fn drained(q: &dyn queue_core::Backend) {
    wait_until("the queue to drain", WAIT, || async {
        let s = q.stats().await.expect("stats failed");
        s.pending == 0 && s.running == 0
    })
    .await;
}

/// A worker runs every job once and shuts down cleanly.
pub async fn runs_every_job(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    let n = 50;
    let mut ids = q
        .enqueue_batch((0..n).map(|i| Job::new("count", json!(i))).collect())
        .await
        .expect("enqueue_batch failed");
    let seen: Arc<Mutex<Vec<JobId>>> = Arc::default();
    let s = seen.clone();
    let w = Worker::new(as_queue(&q))
        .handle("count", move |job: Job| {
            let s = s.clone();
            async move {
                s.lock().unwrap().push(job.id);
                Ok(())
            }
        })
        .concurrency(4)
        .start()
        .expect("worker start failed");
    wait_until("every job to be acked", WAIT, || async {
        w.stats().completed == n as u64
    })
    .await;
    drained(&*q).await;
    let report = w.shutdown(SHUTDOWN).await;
    assert_eq!(
        report,
        ShutdownReport::default(),
        "nothing was running at shutdown"
    );

    let mut seen = seen.lock().unwrap().clone();
    seen.sort();
    ids.sort();
    assert_eq!(seen, ids, "every job runs exactly once");
    for id in ids {
        assert_completed(&*q, id).await;
    }
}

/// A worker claims only kinds it has handlers for.
pub async fn claims_only_handled_kinds(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    // Best job in the queue, but nobody handles it.
    let other = enqueue(&*q, job("other").priority(10)).await;
    let mine = enqueue(&*q, job("mine")).await;
    let ran = Counter::default();
    let r = ran.clone();
    let w = Worker::new(as_queue(&q))
        .handle("mine", move |_job: Job| {
            let r = r.clone();
            async move {
                r.bump();
                Ok(())
            }
        })
        .start()
        .expect("worker start failed");
    wait_until("the handled job to complete", WAIT, || async {
        w.stats().completed == 1
    })
    .await;
    assert_eq!(
        w.stats().claimed,
        1,
        "the worker claimed a job of a kind it has no handler for"
    );
    let report = w.shutdown(SHUTDOWN).await;
    assert_eq!(report, ShutdownReport::default());
    assert_eq!(ran.get(), 1);
    assert_completed(&*q, mine).await;
    let o = get(&*q, other).await;
    assert_eq!(
        (o.state, o.attempts),
        (JobState::Pending, 0),
        "unhandled kind untouched"
    );
}

/// A per-kind limit caps how many jobs of that kind run at once, below the concurrency.
pub async fn per_kind_limit(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    let jobs = 10;
    q.enqueue_batch((0..jobs).map(|_| job("slow")).collect())
        .await
        .expect("enqueue_batch failed");
    let in_flight = InFlight::default();
    let done = Counter::default();
    let (t, d) = (in_flight.clone(), done.clone());
    let w = Worker::new(as_queue(&q))
        .handle("slow", move |_job: Job| {
            let (t, d) = (t.clone(), d.clone());
            async move {
                t.enter();
                tokio::time::sleep(Duration::from_millis(50)).await;
                t.leave();
                d.bump();
                Ok(())
            }
        })
        .concurrency(8)
        .limit("slow", 2)
        .start()
        .expect("worker start failed");
    wait_until("every slow job to run", WAIT, || async {
        done.get() == jobs
    })
    .await;
    w.shutdown(SHUTDOWN).await;
    let max = in_flight.max();
    assert!(max <= 2, "{max} slow jobs ran at once with limit 2");
    assert!(max > 0);
}

/// A paused kind is not claimed; after `resume` it runs. Other kinds run meanwhile.
pub async fn pause_and_resume(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    let (p_ran, other_ran) = (Counter::default(), Counter::default());
    let (p, o) = (p_ran.clone(), other_ran.clone());
    let w = Worker::new(as_queue(&q))
        .handle("p", move |_job: Job| {
            let p = p.clone();
            async move {
                p.bump();
                Ok(())
            }
        })
        .handle("other", move |_job: Job| {
            let o = o.clone();
            async move {
                o.bump();
                Ok(())
            }
        })
        .start()
        .expect("worker start failed");
    w.pause("p");
    assert!(w.is_paused("p") && !w.is_paused("other"));
    // Let the worker settle into waiting, so no claim planned before the pause is late.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let paused = enqueue(&*q, job("p")).await;
    enqueue(&*q, job("other")).await;
    wait_until("the unpaused kind to run", WAIT, || async {
        other_ran.get() == 1
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(p_ran.get(), 0, "a paused kind ran");
    let j = get(&*q, paused).await;
    assert_eq!((j.state, j.attempts), (JobState::Pending, 0));

    w.resume("p");
    assert!(!w.is_paused("p"));
    wait_until("the resumed kind to run", WAIT, || async {
        p_ran.get() == 1
    })
    .await;
    w.shutdown(SHUTDOWN).await;
    assert_completed(&*q, paused).await;
}

/// Arguments of the typed-handler checks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Greet {
    /// Who to greet.
    pub name: String,
    /// How often.
    pub times: u32,
}

impl JobArgs for Greet {
    const KIND: &'static str = "greet";
}

/// A typed handler gets the job's arguments decoded.
pub async fn typed_handler_gets_args(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    let args = Greet {
        name: "Ada".into(),
        times: 3,
    };
    let id = enqueue(&*q, args.to_job().expect("to_job failed")).await;
    let got: Arc<Mutex<Vec<Greet>>> = Arc::default();
    let g = got.clone();
    let w = Worker::new(as_queue(&q))
        .handle_typed::<Greet, _, _>(move |greet: Greet| {
            let g = g.clone();
            async move {
                g.lock().unwrap().push(greet);
                Ok(())
            }
        })
        .start()
        .expect("worker start failed");
    wait_until("the typed job to complete", WAIT, || async {
        w.stats().completed == 1
    })
    .await;
    w.shutdown(SHUTDOWN).await;
    assert_eq!(*got.lock().unwrap(), vec![args]);
    assert_completed(&*q, id).await;
}

/// A payload that does not decode for a typed handler fails the job after one attempt,
/// with a reason that names the payload, and never calls the handler.
pub async fn malformed_payload_fails_typed_job(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    let id = enqueue(
        &*q,
        Job::new(Greet::KIND, json!({ "wrong": true })).max_attempts(5),
    )
    .await;
    let called = Counter::default();
    let c = called.clone();
    let w = Worker::new(as_queue(&q))
        .handle_typed::<Greet, _, _>(move |_greet: Greet| {
            let c = c.clone();
            async move {
                c.bump();
                Ok::<(), JobError>(())
            }
        })
        .start()
        .expect("worker start failed");
    fails_at_once_for_its_payload(&*q, id, w).await;
    assert_eq!(called.get(), 0);
}

/// Waits for job `id` to fail, stops `w`, and checks that it failed on its first attempt
/// with a reason that names the payload.
async fn fails_at_once_for_its_payload(q: &dyn Backend, id: JobId, w: WorkerHandle) {
    wait_until("the malformed job to fail", WAIT, || async {
        get(q, id).await.state == JobState::Failed
    })
    .await;
    w.shutdown(SHUTDOWN).await;
    let j = get(q, id).await;
    assert_eq!(
        j.attempts, 1,
        "a payload that does not decode is not retried"
    );
    let error = j.last_error.unwrap_or_default();
    assert!(
        error.to_lowercase().contains("payload"),
        "last_error should say the payload is bad, got {error:?}"
    );
}

/// An untyped handler whose `job.args()?` cannot decode the payload fails the job after
/// one attempt, like a typed handler: a bad payload is not retried.
pub async fn malformed_payload_fails_untyped_job(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    let id = enqueue(
        &*q,
        Job::new(Greet::KIND, json!({ "wrong": true })).max_attempts(5),
    )
    .await;
    let w = Worker::new(as_queue(&q))
        .handle(Greet::KIND, |job: Job| async move {
            let _greet: Greet = job.args()?;
            Ok::<(), JobError>(())
        })
        .start()
        .expect("worker start failed");
    fails_at_once_for_its_payload(&*q, id, w).await;
}

/// An idle worker is woken by the backend when a job is enqueued: with a 30 s poll
/// interval it still runs the job promptly. (Backends whose factory turns wake-ups off
/// fail this check, on purpose.)
pub async fn wakes_on_enqueue(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    let ran = Counter::default();
    let r = ran.clone();
    let w = Worker::new(as_queue(&q))
        .handle("wake", move |_job: Job| {
            let r = r.clone();
            async move {
                r.bump();
                Ok(())
            }
        })
        .poll_interval(Duration::from_secs(30))
        .start()
        .expect("worker start failed");
    // Let the worker find the queue empty and go to sleep.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let id = enqueue(&*q, job("wake")).await;
    wait_until("the idle worker to wake and run the job", WAIT, || async {
        ran.get() == 1
    })
    .await;
    w.shutdown(SHUTDOWN).await;
    assert_completed(&*q, id).await;
}
