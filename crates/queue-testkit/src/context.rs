//! The handler's side of the worker: the job context, its cancellation token (handler
//! timeout, shutdown, lost lease) and shared data.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use queue_core::{
    CancelReason, Data, Job, JobArgs, JobContext, JobError, JobState, RetryPolicy, ShutdownReport,
    Worker,
};

use crate::intercept::{HangingHeartbeats, Intercepted};
use crate::support::{
    as_queue, assert_completed, claim, enqueue, gap, get, job, state, wait_until, Counter,
    InFlight, ROUNDING, WAIT,
};
use crate::worker::Greet;
use crate::{Factory, Setup};

const SHUTDOWN: Duration = Duration::from_secs(5);

/// A grace far longer than any wait of these checks: a handler that ends in time did so
/// because it honoured its token, not because it was dropped.
const LONG_GRACE: Duration = Duration::from_secs(60);

/// What a handler saw of its context, kept for the check to compare.
#[derive(Clone, Debug)]
struct Seen {
    job: Job,
    ctx: JobContext,
}

/// The context a handler gets describes the job it runs: id, kind, attempts, times, and
/// the deadline of the handler timeout; its token has not fired. Typed handlers get the
/// same context after their arguments.
pub async fn fields_match_the_job(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    let id = enqueue(&*q, job("ctx").max_attempts(4).priority(2)).await;
    let greet = Greet {
        name: "Ada".into(),
        times: 1,
    };
    let typed = enqueue(&*q, greet.to_job().expect("to_job failed")).await;
    let stored = get(&*q, id).await;
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let typed_seen: Arc<Mutex<Vec<(Greet, JobContext)>>> = Arc::default();
    let (s, t) = (seen.clone(), typed_seen.clone());
    let timeout = Duration::from_secs(600);
    let before = tokio::time::Instant::now();
    let w = Worker::new(as_queue(&q))
        .handle("ctx", move |job: Job, ctx: JobContext| {
            let s = s.clone();
            async move {
                s.lock().unwrap().push(Seen { job, ctx });
                Ok(())
            }
        })
        .handle_typed(move |args: Greet, ctx: JobContext| {
            let t = t.clone();
            async move {
                t.lock().unwrap().push((args, ctx));
                Ok(())
            }
        })
        .handler_timeout(timeout)
        .start()
        .expect("worker start failed");
    wait_until("both jobs to complete", WAIT, || async {
        w.stats().completed == 2
    })
    .await;
    w.shutdown(SHUTDOWN).await;

    let Seen { job, ctx } = seen.lock().unwrap().pop().expect("the handler ran");
    assert_eq!(ctx.id(), id);
    assert_eq!(ctx.kind(), "ctx");
    assert_eq!(ctx.attempt(), 1, "the first run is attempt 1");
    assert_eq!(ctx.attempt(), job.attempts);
    assert_eq!(ctx.max_attempts(), 4);
    assert!(!ctx.is_last_attempt());
    assert_eq!(ctx.created_at(), job.created_at);
    assert_eq!(ctx.scheduled_at(), job.scheduled_at);
    assert!(
        gap(stored.created_at, ctx.created_at()).abs() <= ROUNDING,
        "created_at {} is not the stored {}",
        ctx.created_at(),
        stored.created_at
    );
    assert!(gap(stored.scheduled_at, ctx.scheduled_at()).abs() <= ROUNDING);
    let deadline = ctx.deadline().expect("a handler timeout gives a deadline");
    assert!(
        deadline >= before + timeout && deadline <= tokio::time::Instant::now() + timeout,
        "the deadline is the handler's start plus the timeout"
    );
    assert!(!ctx.is_cancelled() && ctx.cancel_reason().is_none());

    let (args, ctx) = typed_seen
        .lock()
        .unwrap()
        .pop()
        .expect("the typed handler ran");
    assert_eq!(args, greet);
    assert_eq!((ctx.id(), ctx.kind()), (typed, "greet"));
    assert_eq!((ctx.attempt(), ctx.max_attempts()), (1, 3));
    assert_completed(&*q, typed).await;
}

/// At the handler timeout the token fires with `Timeout`; a handler that honours it ends
/// within the grace, and the attempt fails with the timeout error.
pub async fn token_fires_on_timeout(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    let id = enqueue(&*q, job("slow").max_attempts(1)).await;
    let reasons: Arc<Mutex<Vec<Option<CancelReason>>>> = Arc::default();
    let r = reasons.clone();
    let w = Worker::new(as_queue(&q))
        .handle("slow", move |_job: Job, ctx: JobContext| {
            let r = r.clone();
            async move {
                ctx.cancelled().await;
                r.lock().unwrap().push(ctx.cancel_reason());
                Err::<(), _>(JobError::retry("gave up when cancelled"))
            }
        })
        .handler_timeout(Duration::from_millis(100))
        .cancel_grace(LONG_GRACE)
        .start()
        .expect("worker start failed");
    wait_until("the timed-out job to fail", WAIT, || async {
        get(&*q, id).await.state == JobState::Failed
    })
    .await;
    let stats = w.stats();
    w.shutdown(SHUTDOWN).await;
    assert_eq!(*reasons.lock().unwrap(), vec![Some(CancelReason::Timeout)]);
    let error = get(&*q, id).await.last_error.unwrap_or_default();
    assert!(
        error.contains("timed out"),
        "the attempt fails with the timeout error, not the handler's, got {error:?}"
    );
    assert_eq!(stats.timed_out, 1);
}

/// A handler that still returns `Ok` within the grace after its timeout completes its
/// job: the work is done.
pub async fn ok_within_grace_completes(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    let id = enqueue(&*q, job("slow").max_attempts(1)).await;
    let w = Worker::new(as_queue(&q))
        .handle("slow", |_job: Job, ctx: JobContext| async move {
            ctx.cancelled().await;
            Ok(())
        })
        .handler_timeout(Duration::from_millis(100))
        .cancel_grace(LONG_GRACE)
        .start()
        .expect("worker start failed");
    wait_until("the job to complete", WAIT, || async {
        w.stats().completed == 1
    })
    .await;
    let stats = w.stats();
    w.shutdown(SHUTDOWN).await;
    assert_eq!((stats.timed_out, stats.retried), (1, 0));
    assert_completed(&*q, id).await;
}

/// Shutdown fires the tokens of running handlers with `Shutdown` the grace before its
/// deadline, not before: a handler that ends sooner finishes untouched, one that waits
/// for its token and then gives up has its job returned without using an attempt.
pub async fn token_fires_on_shutdown(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    let long = enqueue(&*q, job("long").max_attempts(1)).await;
    let short = enqueue(&*q, job("short")).await;
    let started = Counter::default();
    // Who ended, and the reason its token gave then.
    type Ends = Arc<Mutex<Vec<(String, Option<CancelReason>)>>>;
    let seen: Ends = Arc::default();
    let handler = {
        let (started, seen) = (started.clone(), seen.clone());
        move |job: Job, ctx: JobContext| {
            let (started, seen) = (started.clone(), seen.clone());
            async move {
                started.bump();
                if job.kind == "short" {
                    // Wait for the shutdown to begin, then end well before the token fires.
                    while !ctx.is_cancelled() && seen.lock().unwrap().is_empty() {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                    seen.lock()
                        .unwrap()
                        .push(("short".into(), ctx.cancel_reason()));
                    return Ok(());
                }
                ctx.cancelled().await;
                seen.lock()
                    .unwrap()
                    .push(("long".into(), ctx.cancel_reason()));
                Err(JobError::retry("interrupted"))
            }
        }
    };
    let w = Worker::new(as_queue(&q))
        .handle("long", handler.clone())
        .handle("short", handler)
        .cancel_grace(Duration::from_secs(3))
        .start()
        .expect("worker start failed");
    wait_until("both jobs to start", WAIT, || async { started.get() == 2 }).await;
    let shutdown = tokio::spawn(w.shutdown(Duration::from_secs(6)));
    // Lets the short job end as soon as the shutdown has begun.
    tokio::time::sleep(Duration::from_millis(50)).await;
    seen.lock().unwrap().push(("shutdown".into(), None));
    let report = shutdown.await.expect("shutdown panicked");
    assert_eq!(
        *seen.lock().unwrap(),
        vec![
            ("shutdown".to_string(), None),
            ("short".to_string(), None),
            ("long".to_string(), Some(CancelReason::Shutdown)),
        ],
        "the short job ends before the tokens fire; the long one when its token fires"
    );
    assert_eq!(
        report,
        ShutdownReport {
            finished: 1,
            returned: 1
        }
    );
    assert_completed(&*q, short).await;
    let j = get(&*q, long).await;
    assert_eq!((j.state, j.last_error), (JobState::Pending, None));
    let again = claim(&*q, &[]).await;
    assert_eq!(
        (again.id, again.attempts),
        (long, 1),
        "the interrupted attempt was given back"
    );
}

/// With a shutdown timeout shorter than the grace the tokens fire at once; a handler that
/// returns `Ok` then completes its job.
pub async fn token_fires_at_once_on_short_shutdown(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    let id = enqueue(&*q, job("long")).await;
    let started = Counter::default();
    let s = started.clone();
    let w = Worker::new(as_queue(&q))
        .handle("long", move |_job: Job, ctx: JobContext| {
            let s = s.clone();
            async move {
                s.bump();
                ctx.cancelled().await;
                assert_eq!(ctx.cancel_reason(), Some(CancelReason::Shutdown));
                Ok(())
            }
        })
        .cancel_grace(LONG_GRACE)
        .start()
        .expect("worker start failed");
    wait_until("the job to start", WAIT, || async { started.get() == 1 }).await;
    let report = w.shutdown(Duration::from_secs(30)).await;
    assert_eq!(
        report,
        ShutdownReport {
            finished: 1,
            returned: 0
        }
    );
    assert_completed(&*q, id).await;
}

/// Values registered with `Worker::data` reach handlers that take `Data<T>`, in any
/// position after the job, for plain and typed handlers.
pub async fn data_reaches_handler(f: &dyn Factory) {
    #[derive(Clone, Debug, PartialEq)]
    struct Prefix(String);

    let q = f.make(Setup::default()).await;
    enqueue(&*q, job("data")).await;
    enqueue(
        &*q,
        Greet {
            name: "Bo".into(),
            times: 2,
        }
        .to_job()
        .expect("to_job failed"),
    )
    .await;
    let got: Arc<Mutex<Vec<String>>> = Arc::default();
    let (g, t) = (got.clone(), got.clone());
    let w = Worker::new(as_queue(&q))
        .data(Prefix("hello".into()))
        .data(7_u64)
        .handle(
            "data",
            move |job: Job, p: Data<Prefix>, ctx: JobContext, n: Data<u64>| {
                let g = g.clone();
                async move {
                    assert_eq!(ctx.id(), job.id);
                    g.lock().unwrap().push(format!("{} {}", p.0, *n));
                    Ok(())
                }
            },
        )
        .handle_typed(move |args: Greet, p: Data<Prefix>| {
            let t = t.clone();
            async move {
                t.lock().unwrap().push(format!("{} {}", p.0, args.name));
                Ok(())
            }
        })
        .start()
        .expect("worker start failed");
    wait_until("both jobs to complete", WAIT, || async {
        w.stats().completed == 2
    })
    .await;
    w.shutdown(SHUTDOWN).await;
    let mut got = got.lock().unwrap().clone();
    got.sort();
    assert_eq!(got, vec!["hello 7".to_string(), "hello Bo".to_string()]);
}

/// When its lease can no longer be renewed, a handler's token fires with `LeaseLost`
/// before the handler is dropped, and both happen before another worker reclaims the job.
pub async fn token_fires_before_lease_is_lost(f: &dyn Factory) {
    let lease = Duration::from_millis(400);
    let q = f
        .make(
            Setup::default()
                .lease(lease)
                .retry(RetryPolicy::immediate()),
        )
        .await;
    let cut = Arc::new(Intercepted::new(as_queue(&q), HangingHeartbeats::default()));
    let id = enqueue(&*q, job("long").max_attempts(3)).await;
    let events: Arc<Mutex<Vec<String>>> = Arc::default();
    let in_flight = InFlight::default();
    let handler = {
        let (events, in_flight) = (events.clone(), in_flight.clone());
        move |_job: Job, ctx: JobContext| {
            let (events, in_flight) = (events.clone(), in_flight.clone());
            async move {
                let run = ctx.attempt();
                events.lock().unwrap().push(format!("start {run}"));
                if run > 1 {
                    return Ok(());
                }
                // Marks the end of the first run even when the worker drops it.
                struct Dropped(Arc<Mutex<Vec<String>>>, InFlight);
                impl Drop for Dropped {
                    fn drop(&mut self) {
                        self.1.leave();
                        self.0.lock().unwrap().push("dropped 1".into());
                    }
                }
                in_flight.enter();
                let _dropped = Dropped(events.clone(), in_flight);
                ctx.cancelled().await;
                events
                    .lock()
                    .unwrap()
                    .push(format!("cancelled 1: {:?}", ctx.cancel_reason()));
                // Ignores the token: only the worker's stop ends this run.
                std::future::pending::<()>().await;
                Ok::<(), JobError>(())
            }
        }
    };
    let first = Worker::new(cut.clone())
        .handle("long", handler.clone())
        .cancel_grace(LONG_GRACE)
        .start()
        .expect("worker start failed");
    wait_until("the first run to start", WAIT, || async {
        events.lock().unwrap().len() == 1
    })
    .await;
    cut.hooks().set_down(true);
    first.pause("long");

    let second = Worker::new(as_queue(&q))
        .handle("long", handler)
        .start()
        .expect("worker start failed");
    wait_until("the job to be reclaimed and completed", WAIT, || async {
        events.lock().unwrap().iter().any(|e| e == "start 2")
            && matches!(state(&*q, id).await, None | Some(JobState::Completed))
    })
    .await;
    cut.hooks().set_down(false);
    let first_stats = first.stats();
    first.shutdown(SHUTDOWN).await;
    second.shutdown(SHUTDOWN).await;

    let events = events.lock().unwrap().clone();
    assert_eq!(
        events,
        vec![
            "start 1".to_string(),
            format!("cancelled 1: {:?}", Some(CancelReason::LeaseLost)),
            "dropped 1".to_string(),
            "start 2".to_string(),
        ],
        "the token fires, then the run is dropped, then the job runs elsewhere"
    );
    assert_eq!(in_flight.max(), 1);
    assert_eq!(first_stats.lease_lost, 1, "{first_stats:?}");
}
