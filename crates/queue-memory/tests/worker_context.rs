//! The handler API against a MemoryQueue, for what is the worker's own rather than the
//! backend's: configuration errors, shared data, a dropped handle's tokens, giving up on
//! a lost lease, and `run_until_idle` as tests use it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use queue_core::{
    Browsable, CancelReason, Data, Job, JobArgs, JobContext, JobError, JobState, Queue, QueueError,
    RunOutcome, Worker,
};
use queue_memory::MemoryQueue;
use queue_testkit::intercept::{HangingHeartbeats, Intercepted};
use queue_testkit::support::{wait_until, Counter};
use serde::{Deserialize, Serialize};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(10);

#[derive(Clone, Debug, PartialEq)]
struct Pool(&'static str);

#[derive(Serialize, Deserialize)]
struct Email {
    to: String,
}

impl JobArgs for Email {
    const KIND: &'static str = "email";
}

async fn plain(_job: Job) -> Result<(), JobError> {
    Ok(())
}

async fn with_ctx(_args: Email, _ctx: JobContext) -> Result<(), JobError> {
    Ok(())
}

async fn with_ctx_and_data(
    _args: Email,
    _ctx: JobContext,
    _db: Data<Pool>,
) -> Result<(), JobError> {
    Ok(())
}

/// A handler taking a `Data<T>` nobody registered fails `start` with `InvalidConfig`,
/// naming the type and the kind; registering it fixes that.
#[tokio::test]
async fn missing_data_is_a_config_error_at_start() {
    let queue: Arc<dyn Queue> = Arc::new(MemoryQueue::new());
    let err = Worker::new(queue.clone())
        .handle("plain", plain)
        .handle_typed(with_ctx_and_data)
        .start()
        .err()
        .expect("start must fail without the data");
    match err {
        QueueError::InvalidConfig(msg) => {
            assert!(msg.contains("Pool"), "names the type: {msg}");
            assert!(msg.contains("\"email\""), "names the kind: {msg}");
        }
        other => panic!("expected InvalidConfig, got {other:?}"),
    }
    let report = Worker::new(queue.clone())
        .data(Pool("db"))
        .handle("plain", plain)
        .handle_typed(with_ctx)
        .handle_typed(with_ctx_and_data)
        .run_until_idle()
        .await;
    assert!(report.is_ok(), "{report:?}");
}

/// One value per type (a later one replaces it); `Data` derefs to it, clones share it,
/// and `into_inner` gives it back.
#[tokio::test]
async fn data_is_one_value_per_type() {
    let queue = Arc::new(MemoryQueue::new());
    queue.enqueue(Job::new("k", json!(1))).await.unwrap();
    let got: Arc<Mutex<Vec<Pool>>> = Arc::default();
    let g = got.clone();
    let report = Worker::new(queue)
        .data(Pool("first"))
        .data(Pool("second"))
        .handle("k", move |_job: Job, pool: Data<Pool>| {
            let g = g.clone();
            async move {
                let copy = pool.clone();
                assert_eq!(copy.0, pool.0);
                g.lock().unwrap().push(copy.into_inner());
                Ok(())
            }
        })
        .run_until_idle()
        .await
        .unwrap();
    assert_eq!(report.completed, 1);
    assert_eq!(*got.lock().unwrap(), vec![Pool("second")]);
}

/// Dropping the handle fires the tokens of running handlers (with `Shutdown`) before it
/// stops them: work a handler handed its token to learns of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_handle_fires_the_tokens() {
    let queue = Arc::new(MemoryQueue::new());
    queue.enqueue(Job::new("long", json!(1))).await.unwrap();
    let started = Counter::default();
    let reason: Arc<Mutex<Option<CancelReason>>> = Arc::default();
    let (s, r) = (started.clone(), reason.clone());
    let worker = Worker::new(queue.clone())
        .handle("long", move |_job: Job, ctx: JobContext| {
            let (s, r) = (s.clone(), r.clone());
            async move {
                let watched = ctx.clone();
                tokio::spawn(async move {
                    watched.cancelled().await;
                    *r.lock().unwrap() = watched.cancel_reason();
                });
                s.bump();
                std::future::pending::<()>().await;
                Ok(())
            }
        })
        .start()
        .unwrap();
    wait_until("the job to start", WAIT, || async { started.get() == 1 }).await;
    drop(worker);
    wait_until("the spawned watcher to see the token", WAIT, || async {
        *reason.lock().unwrap() == Some(CancelReason::Shutdown)
    })
    .await;
}

/// The README's example of testing code that enqueues jobs.
#[tokio::test]
async fn run_until_idle_tests_code_that_enqueues() {
    async fn sign_up(queue: &dyn Queue, to: &str) -> queue_core::Result<()> {
        queue.enqueue(Email { to: to.into() }.to_job()?).await?;
        Ok(())
    }

    let queue = Arc::new(MemoryQueue::new());
    sign_up(&*queue, "a@example.com").await.unwrap();
    sign_up(&*queue, "b@example.com").await.unwrap();

    let sent: Arc<Mutex<Vec<String>>> = Arc::default();
    let s = sent.clone();
    let report = Worker::new(queue.clone())
        .handle_typed(move |email: Email| {
            let s = s.clone();
            async move {
                s.lock().unwrap().push(email.to);
                Ok(())
            }
        })
        .run_until_idle()
        .await
        .unwrap();

    assert_eq!(report.completed, 2);
    assert!(report
        .jobs
        .iter()
        .all(|j| j.kind == "email" && j.outcome == RunOutcome::Completed));
    sent.lock().unwrap().sort();
    assert_eq!(*sent.lock().unwrap(), ["a@example.com", "b@example.com"]);
}

/// A handler that gives up when its token fires for a lease that cannot be renewed has
/// its job handed back without using an attempt, while the lease still holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn giving_up_on_lease_loss_returns_the_job() {
    let lease = Duration::from_millis(400);
    let memory = Arc::new(MemoryQueue::builder().lease_timeout(lease).build());
    let cut = Arc::new(Intercepted::new(
        memory.clone(),
        HangingHeartbeats::default(),
    ));
    let id = memory
        .enqueue(Job::new("long", json!(1)).max_attempts(1))
        .await
        .unwrap();
    let started = Counter::default();
    let reason: Arc<Mutex<Option<CancelReason>>> = Arc::default();
    let (s, r) = (started.clone(), reason.clone());
    let worker = Worker::new(cut.clone())
        .handle("long", move |_job: Job, ctx: JobContext| {
            let (s, r) = (s.clone(), r.clone());
            async move {
                s.bump();
                ctx.cancelled().await;
                *r.lock().unwrap() = ctx.cancel_reason();
                Err::<(), _>(JobError::retry("lease going"))
            }
        })
        .start()
        .unwrap();
    wait_until("the job to start", WAIT, || async { started.get() == 1 }).await;
    cut.hooks().set_down(true);
    worker.pause("long");
    wait_until("the job to be handed back", WAIT, || async {
        memory.get_job(id).await.unwrap().unwrap().state == JobState::Pending
    })
    .await;
    cut.hooks().set_down(false);
    let stats = worker.stats();
    worker.shutdown(Duration::from_secs(5)).await;
    assert_eq!(*reason.lock().unwrap(), Some(CancelReason::LeaseLost));
    let job = memory.get_job(id).await.unwrap().unwrap();
    assert_eq!(
        (job.attempts, job.last_error),
        (0, None),
        "handed back, not failed: its only attempt is still there"
    );
    assert_eq!((stats.returned, stats.retried), (1, 0), "{stats:?}");
}

/// The worker listens for cancel requests before its first claim. It once subscribed
/// when its heartbeat task first ran, which can be after a claim: a request announced
/// in between was heard only at the next heartbeat. On this single-threaded runtime the
/// spawned tasks run in order, so the old order shows every time.
#[tokio::test]
async fn cancel_requests_are_heard_from_before_the_first_claim() {
    #[derive(Default)]
    struct Order(Mutex<Vec<&'static str>>);

    #[async_trait::async_trait]
    impl queue_testkit::intercept::Hooks for Order {
        async fn claimed(&self, jobs: &[Job]) {
            if !jobs.is_empty() {
                self.0.lock().unwrap().push("claimed");
            }
        }
        fn listening(&self) {
            self.0.lock().unwrap().push("listening");
        }
    }

    let memory = Arc::new(MemoryQueue::new());
    let id = memory.enqueue(Job::new("k", json!(1))).await.unwrap();
    let q = Arc::new(Intercepted::new(memory.clone(), Order::default()));
    let w = Worker::new(q.clone())
        .handle("k", |_job: Job| async { Ok(()) })
        .start()
        .unwrap();
    wait_until("the job to complete", Duration::from_secs(10), || async {
        memory.get_job(id).await.unwrap().map(|j| j.state) == Some(JobState::Completed)
    })
    .await;
    w.shutdown(Duration::from_secs(5)).await;
    let order = q.hooks().0.lock().unwrap().clone();
    assert_eq!(order.first(), Some(&"listening"), "{order:?}");
}
