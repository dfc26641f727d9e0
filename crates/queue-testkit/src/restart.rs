//! A server restart in the middle of a run: the worker rides it out, no job is lost, and
//! none runs twice at once.
//!
//! Not one of the [`crate::CHECKS`]: it needs a server of its own that the test may stop
//! (never a shared one), so each backend calls [`jobs_survive_a_restart`] from its own
//! test with a throw-away server:
//!
//! ```ignore
//! let server = Arc::new(PostgresServer::start()?);
//! let (a, b) = (server.clone(), server.clone());
//! queue_testkit::restart::block_on(async move {
//!     queue_testkit::restart::jobs_survive_a_restart(worker_queue, producer, move || a.stop(), move || b.start_again()).await;
//! });
//! ```

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use queue_core::{Backend, Job, JobId, JobState, ShutdownReport, Stats, Worker, WorkerHandle};
use serde_json::json;

use crate::support::as_queue;

/// Jobs enqueued before the restart.
pub const JOBS_BEFORE: usize = 2_000;
/// Jobs enqueued once the server is back.
pub const JOBS_AFTER: usize = 200;
/// The kind of every job of the scenario.
const KIND: &str = "restart";
const CONCURRENCY: usize = 8;
/// Long enough that the run is still going when the server stops, short enough that
/// the scenario stays quick.
const HANDLER_TIME: Duration = Duration::from_millis(3);
/// Jobs among the first that run across the outage: with higher priority, so they are
/// running when the server stops, and longer than the outage, so their leases run out
/// meanwhile. The worker must stop them before the jobs can be claimed again.
const LONG_JOBS: usize = 4;
/// How long a long job runs: well past the server's return.
const LONG_TIME: Duration = Duration::from_secs(4);
/// Jobs finished before the server is stopped.
const RUN_BEFORE_STOP: usize = 300;
/// How long the server stays down: longer than the short lease (about 1 s) the queues
/// under test should have, so leases run out during the outage.
const DOWN: Duration = Duration::from_secs(2);
/// Bound of each wait; a working backend needs a few seconds.
const DEADLINE: Duration = Duration::from_secs(120);
/// How long one wake-up is waited for before another job is sent to ask again.
const WAKE_WAIT: Duration = Duration::from_secs(2);
/// How often the waits look again.
const POLL: Duration = Duration::from_millis(100);

/// Runs `scenario` on a runtime of its own, with the worker's warnings in the test's
/// output (`RUST_LOG` shows more). Call it outside any runtime, after starting the server:
/// starting and stopping a server blocks.
pub fn block_on(scenario: impl Future<Output = ()>) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    // Already set by an earlier test of the same binary: keep that one.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("cannot build a tokio runtime")
        .block_on(scenario);
}

/// Runs [`JOBS_BEFORE`] jobs through a worker (concurrency 8) on `worker_queue`, stops
/// the server with `stop` once some have run (and while a few long ones run), starts it
/// again with `start` a moment later, and waits for every job to complete. Then checks that wake-ups reach the
/// worker's queue again and runs [`JOBS_AFTER`] more.
///
/// `producer` is a second handle on the same queue (another connection), which enqueues
/// every job, so the worker's queue learns of new jobs only from the server's wake-ups.
/// Both should have a lease timeout of about a second, and keep completed jobs (at
/// least [`JOBS_BEFORE`] + [`JOBS_AFTER`] and a few), which are checked at the end.
/// `stop` and `start` may block; they run on a blocking thread.
///
/// Panics, naming what went wrong, when a job was lost, did not complete by a generous
/// deadline, or started while it was already running.
pub async fn jobs_survive_a_restart(
    worker_queue: Arc<dyn Backend>,
    producer: Arc<dyn Backend>,
    stop: impl FnOnce() -> Result<(), String> + Send + 'static,
    start: impl FnOnce() -> Result<(), String> + Send + 'static,
) {
    let began = Instant::now();
    let long = (0..LONG_JOBS)
        .map(|i| Job::new(KIND, json!({ "long": i })).priority(1))
        .collect();
    let mut all = producer
        .enqueue_batch(long)
        .await
        .expect("enqueue_batch failed");
    all.extend(enqueue(&*producer, JOBS_BEFORE - LONG_JOBS).await);
    let runs = Arc::new(Runs::default());
    let r = runs.clone();
    let worker = Worker::new(as_queue(&worker_queue))
        .handle(KIND, move |job: Job| {
            let run = r.start(job.id);
            let time = if job.payload.get("long").is_some() {
                LONG_TIME
            } else {
                HANDLER_TIME
            };
            async move {
                tokio::time::sleep(time).await;
                run.finish();
                Ok(())
            }
        })
        .concurrency(CONCURRENCY)
        .start()
        .expect("worker start failed");

    let check = Check {
        queue: &*worker_queue,
        runs: &runs,
        worker: &worker,
    };
    check
        .wait("some jobs to run before the restart", || {
            runs.lock().finished >= RUN_BEFORE_STOP
        })
        .await;
    let running_at_stop = runs.lock().running.len();
    blocking("stopping the server", stop).await;
    let finished_at_stop = runs.lock().finished;
    assert!(
        finished_at_stop < JOBS_BEFORE && running_at_stop >= LONG_JOBS,
        "the server stopped with {finished_at_stop} jobs done and {running_at_stop} \
         running, too late for the restart to test anything"
    );
    tokio::time::sleep(DOWN).await;
    blocking("starting the server again", start).await;
    // As another process would, reclaim the leases that ran out during the outage as
    // soon as the server is back: the worker must have stopped those jobs by now.
    let reclaimed = producer
        .reclaim()
        .await
        .expect("reclaim after the restart failed");
    check
        .completed(&all, "the jobs enqueued before the restart")
        .await;

    // A job enqueued through the other connection is announced to the worker's queue,
    // so its wake-ups (LISTEN, SUBSCRIBE) came back. Asked again until it is, since the
    // listener may still be reconnecting.
    let mut sub = worker_queue.subscribe();
    let deadline = Instant::now() + DEADLINE;
    loop {
        sub.mark_seen();
        all.extend(enqueue(&*producer, 1).await);
        if sub.wait(WAKE_WAIT).await {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no wake-up reached the worker's queue within {DEADLINE:?} of the restart \
             ({} jobs sent to ask); {}",
            all.len() - JOBS_BEFORE,
            check.status().await
        );
    }
    all.extend(enqueue(&*producer, JOBS_AFTER).await);
    check
        .completed(&all, "the jobs enqueued after the restart")
        .await;

    let stats = worker.stats();
    let report = worker.shutdown(Duration::from_secs(10)).await;
    let expected: HashSet<JobId> = all.iter().copied().collect();
    assert_eq!(expected.len(), all.len(), "enqueue returned duplicate ids");
    let (starts, reruns) = {
        let runs = runs.lock();
        assert!(
            runs.overlaps.is_empty(),
            "{} jobs started while already running (a run twice at once), e.g. {:?}",
            runs.overlaps.len(),
            &runs.overlaps[..runs.overlaps.len().min(5)]
        );
        let strangers: Vec<_> = runs
            .starts
            .keys()
            .filter(|id| !expected.contains(id))
            .collect();
        assert!(
            strangers.is_empty(),
            "jobs never enqueued ran: {strangers:?}"
        );
        let starts: u64 = runs.starts.values().map(|&n| u64::from(n)).sum();
        (starts, runs.starts.values().filter(|&&n| n > 1).count())
    };

    let total = all.len() as u64;
    let listed: HashSet<JobId> = worker_queue
        .list_jobs(Some(JobState::Completed), all.len() + 10)
        .await
        .expect("list_jobs failed")
        .into_iter()
        .map(|j| j.id)
        .collect();
    assert!(
        listed == expected,
        "the completed jobs are not the enqueued ones: {} enqueued, {} completed, {} of \
         them not enqueued",
        expected.len(),
        listed.len(),
        listed.difference(&expected).count()
    );
    let queue_stats = worker_queue.stats().await.expect("stats failed");
    assert_eq!(
        queue_stats,
        Stats {
            completed: total,
            ..Stats::default()
        },
        "every job should be completed, and nothing else be left"
    );

    assert_eq!(
        report,
        ShutdownReport::default(),
        "nothing runs at shutdown"
    );
    let unexpected = [
        ("running", stats.running),
        ("retried", stats.retried),
        ("discarded", stats.discarded),
        ("snoozed", stats.snoozed),
        ("panicked", stats.panicked),
        ("timed out", stats.timed_out),
    ];
    for (what, n) in unexpected {
        assert_eq!(n, 0, "worker stats: {n} {what}; {stats:?}");
    }
    // Each job's success is recorded once. An ack that was written but whose reply was
    // lost with the connection counts as an error, or as a lost lease when the retry
    // finds the job already completed.
    assert!(
        stats.completed <= total && stats.completed + stats.errors + stats.lease_lost >= total,
        "worker stats: {} completed of {total} jobs; {stats:?}",
        stats.completed
    );
    // Every claim starts its handler, unless the lease was lost first or the claim came
    // back too late to be trusted (the jobs are then returned untouched).
    assert!(
        starts <= stats.claimed && stats.claimed <= starts + stats.lease_lost + stats.returned,
        "worker stats: {} claims, {starts} handler starts; {stats:?}",
        stats.claimed
    );
    eprintln!(
        "restart scenario: {total} jobs completed in {:?}; {finished_at_stop} had run when \
         the server stopped; {reclaimed} were reclaimed after the restart; {reruns} ran more \
         than once (never at once); worker {stats:?}",
        began.elapsed()
    );
}

/// Enqueues `n` jobs, in batches.
async fn enqueue(q: &dyn Backend, n: usize) -> Vec<JobId> {
    let mut ids = Vec::with_capacity(n);
    let mut left = n;
    while left > 0 {
        let batch = left.min(500);
        let jobs = (0..batch)
            .map(|i| Job::new(KIND, json!({ "n": n - left + i })))
            .collect();
        ids.extend(q.enqueue_batch(jobs).await.expect("enqueue_batch failed"));
        left -= batch;
    }
    ids
}

/// Runs `f` on a blocking thread; panics naming `what` when it fails.
async fn blocking(what: &str, f: impl FnOnce() -> Result<(), String> + Send + 'static) {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => panic!("{what} failed: {e}"),
        Err(e) => panic!("{what} panicked: {e}"),
    }
}

/// What the handlers saw.
#[derive(Default)]
struct Runs {
    state: Mutex<RunState>,
}

#[derive(Default)]
struct RunState {
    /// Handlers running now, per job.
    running: HashMap<JobId, u32>,
    /// Handler starts, per job.
    starts: HashMap<JobId, u32>,
    /// Jobs that started while already running.
    overlaps: Vec<JobId>,
    /// Handlers that ran to the end.
    finished: usize,
}

impl Runs {
    fn lock(&self) -> MutexGuard<'_, RunState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A handler of `id` starts; the returned guard marks its end, however it ends (the
    /// worker drops a handler whose lease was lost).
    fn start(self: &Arc<Self>, id: JobId) -> Run {
        let mut st = self.lock();
        let running = st.running.entry(id).or_insert(0);
        *running += 1;
        if *running > 1 {
            st.overlaps.push(id);
        }
        *st.starts.entry(id).or_insert(0) += 1;
        Run {
            runs: self.clone(),
            id,
            finished: false,
        }
    }
}

/// One handler run.
struct Run {
    runs: Arc<Runs>,
    id: JobId,
    finished: bool,
}

impl Run {
    fn finish(mut self) {
        self.finished = true;
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        let mut st = self.runs.lock();
        if let Some(n) = st.running.get_mut(&self.id) {
            *n -= 1;
            if *n == 0 {
                st.running.remove(&self.id);
            }
        }
        if self.finished {
            st.finished += 1;
        }
    }
}

/// Bounded waits that fail with the state of the worker and the queue.
struct Check<'a> {
    queue: &'a dyn Backend,
    runs: &'a Runs,
    worker: &'a WorkerHandle,
}

impl Check<'_> {
    /// Waits until `done`; panics naming `what` after [`DEADLINE`].
    async fn wait(&self, what: &str, mut done: impl FnMut() -> bool) {
        let deadline = Instant::now() + DEADLINE;
        while !done() {
            if Instant::now() > deadline {
                panic!(
                    "timed out after {DEADLINE:?} waiting for {what}; {}",
                    self.status().await
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until each of `ids` has run and the queue holds them all as completed, and
    /// nothing else.
    async fn completed(&self, ids: &[JobId], what: &str) {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let ran = {
                let st = self.runs.lock();
                ids.iter().all(|id| st.starts.contains_key(id))
            };
            if ran {
                if let Ok(s) = self.queue.stats().await {
                    if s.completed == ids.len() as u64 && s.pending == 0 && s.running == 0 {
                        return;
                    }
                }
            }
            if Instant::now() > deadline {
                panic!(
                    "timed out after {DEADLINE:?} waiting for {what} to complete; {}",
                    self.status().await
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The counts that tell what is stuck.
    async fn status(&self) -> String {
        let (started, finished) = {
            let st = self.runs.lock();
            (st.starts.len(), st.finished)
        };
        let queue = match self.queue.stats().await {
            Ok(s) => format!("{s:?}"),
            Err(e) => format!("unknown ({e})"),
        };
        format!(
            "{started} distinct jobs started, {finished} handler runs finished; queue stats: \
             {queue}; worker stats: {:?}",
            self.worker.stats()
        )
    }
}
