//! The operator's calls: `list` with filters and a cursor, `oldest_due`, `run_now`,
//! `delete`, `purge`, and `Job::finished_at`.

use std::collections::HashSet;
use std::time::Duration;

use queue_core::{
    Backend, CancelOutcome, Job, JobFilter, JobId, JobState, QueueError, RetryPolicy, Worker,
};
use time::OffsetDateTime;

use crate::support::{
    as_queue, assert_near_now, claim, enqueue, get, job, lease_of, wait_until, Counter, ROUNDING,
    WAIT,
};
use crate::{Factory, Setup};

/// The ids of `list(filter)`, checking that every job listed matches the filter.
async fn listed(q: &dyn Backend, filter: &JobFilter) -> Vec<JobId> {
    let jobs = q.list(filter).await.expect("list failed");
    for j in &jobs {
        if let Some(st) = filter.state {
            assert_eq!(j.state, st, "{filter:?} listed a {} job", j.state);
        }
        if let Some(kind) = &filter.kind {
            assert_eq!(&j.kind, kind, "{filter:?} listed a {:?} job", j.kind);
        }
        if let Some(before) = filter.before {
            assert!(
                j.id < before,
                "{filter:?} listed {}, not below the cursor",
                j.id
            );
        }
    }
    jobs.into_iter().map(|j| j.id).collect()
}

/// Every page of `filter` (whose limit is the page size), following the cursor; calls
/// `between` after each page.
async fn pages<F, Fut>(q: &dyn Backend, filter: JobFilter, mut between: F) -> Vec<Vec<JobId>>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut out: Vec<Vec<JobId>> = Vec::new();
    let mut page = filter.clone();
    loop {
        let ids = listed(q, &page).await;
        let Some(&last) = ids.last() else {
            return out;
        };
        assert!(out.len() < 1_000, "paging does not end");
        out.push(ids);
        between().await;
        page = filter.clone().before(last);
    }
}

/// Ids newest first.
fn newest_first(ids: &[JobId]) -> Vec<JobId> {
    let mut v = ids.to_vec();
    v.sort_unstable_by(|a, b| b.cmp(a));
    v
}

/// `list` filters by state, by kind and by both, newest first.
pub async fn list_filters_by_state_and_kind(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    let mut a = Vec::new();
    let mut b = Vec::new();
    for i in 0..6 {
        a.push(enqueue(&*q, job("a").priority(10 - i)).await);
        b.push(enqueue(&*q, job("b")).await);
    }
    // a[0] and a[1] run (highest priorities); a[1] then fails.
    let first = claim(&*q, &["a"]).await;
    assert_eq!(first.id, a[0]);
    let second = claim(&*q, &["a"]).await;
    q.discard(&lease_of(&second), "no")
        .await
        .expect("discard failed");
    assert_eq!(
        q.cancel(b[2]).await.expect("cancel failed"),
        CancelOutcome::Cancelled
    );

    let all: Vec<JobId> = newest_first(&[a.clone(), b.clone()].concat());
    assert_eq!(listed(&*q, &JobFilter::new()).await, all);
    assert_eq!(
        listed(&*q, &JobFilter::new().kind("a")).await,
        newest_first(&a)
    );
    assert_eq!(
        listed(&*q, &JobFilter::new().kind("a").limit(2)).await,
        newest_first(&a)[..2]
    );
    assert!(listed(&*q, &JobFilter::new().kind("none")).await.is_empty());
    let pending_b: Vec<JobId> = b.iter().copied().filter(|&id| id != b[2]).collect();
    assert_eq!(
        listed(&*q, &JobFilter::new().state(JobState::Pending).kind("b")).await,
        newest_first(&pending_b)
    );
    assert_eq!(
        listed(&*q, &JobFilter::new().state(JobState::Pending).kind("a")).await,
        newest_first(&a[2..])
    );
    assert_eq!(
        listed(&*q, &JobFilter::new().state(JobState::Running)).await,
        vec![a[0]]
    );
    assert_eq!(
        listed(&*q, &JobFilter::new().state(JobState::Failed).kind("a")).await,
        vec![a[1]]
    );
    assert!(
        listed(&*q, &JobFilter::new().state(JobState::Failed).kind("b"))
            .await
            .is_empty(),
        "no failed job of kind b"
    );
    assert_eq!(
        listed(&*q, &JobFilter::new().state(JobState::Cancelled)).await,
        vec![b[2]]
    );
}

/// Paging with `before` = the last id of the previous page lists every job once, newest
/// first, with and without filters; jobs enqueued while paging are newer than the cursor
/// and never show up on later pages.
pub async fn list_pages_with_the_cursor(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    let mut ids = Vec::new();
    for i in 0..23 {
        ids.push(enqueue(&*q, job(if i % 3 == 0 { "rare" } else { "common" })).await);
    }
    // A few in another state, to be skipped by the state filter on every page.
    for _ in 0..2 {
        let j = claim(&*q, &["common"]).await;
        q.discard(&lease_of(&j), "no")
            .await
            .expect("discard failed");
    }

    let added = std::sync::Mutex::new(Vec::new());
    let got = pages(&*q, JobFilter::new().limit(5), || async {
        let id = enqueue(&*q, job("common")).await;
        added.lock().unwrap().push(id);
    })
    .await;
    assert_eq!(got.len(), 5, "23 jobs in pages of 5: {got:?}");
    assert!(got[..4].iter().all(|p| p.len() == 5), "{got:?}");
    assert_eq!(
        got.concat(),
        newest_first(&ids),
        "pages are newest first, without duplicates or gaps, and without the jobs \
         enqueued while paging"
    );
    let added = added.into_inner().unwrap();
    assert_eq!(added.len(), 5);

    let rare: Vec<JobId> = ids.iter().copied().step_by(3).collect();
    let got = pages(&*q, JobFilter::new().kind("rare").limit(3), || async {}).await;
    assert_eq!(got.concat(), newest_first(&rare), "kind filter: {got:?}");

    let failed = listed(&*q, &JobFilter::new().state(JobState::Failed)).await;
    assert_eq!(failed.len(), 2);
    let pending: Vec<JobId> = ids
        .iter()
        .chain(&added)
        .copied()
        .filter(|id| !failed.contains(id))
        .collect();
    let got = pages(
        &*q,
        JobFilter::new().state(JobState::Pending).limit(4),
        || async {},
    )
    .await;
    assert_eq!(
        got.concat(),
        newest_first(&pending),
        "state filter: {got:?}"
    );
    let got = pages(
        &*q,
        JobFilter::new()
            .state(JobState::Pending)
            .kind("common")
            .limit(4),
        || async {},
    )
    .await;
    let flat = got.concat();
    assert_eq!(
        flat.iter().collect::<HashSet<_>>().len(),
        flat.len(),
        "a job listed twice: {got:?}"
    );
    let common: Vec<JobId> = pending
        .iter()
        .copied()
        .filter(|id| !rare.contains(id))
        .collect();
    assert_eq!(flat, newest_first(&common), "state and kind: {got:?}");
}

/// `run_now` makes a pending job scheduled for later claimable at once, due now; it is
/// `Ok(false)` for unknown, due, running and finished jobs, and for a second call.
pub async fn run_now_makes_a_delayed_job_due(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    let later = enqueue(&*q, job("r").delay(Duration::from_secs(3600))).await;
    assert!(
        q.dequeue(&["r"]).await.expect("dequeue failed").is_none(),
        "the job is due in an hour"
    );
    assert!(q.run_now(later).await.expect("run_now failed"));
    let j = get(&*q, later).await;
    assert_eq!(j.state, JobState::Pending);
    assert_near_now(j.scheduled_at, "scheduled_at after run_now");
    assert!(
        !q.run_now(later).await.expect("run_now failed"),
        "a second run_now: the job is due already"
    );
    let claimed = claim(&*q, &["r"]).await;
    assert_eq!(claimed.id, later, "run_now made the job claimable at once");
    assert_eq!(claimed.attempts, 1);

    assert!(!q.run_now(JobId::new()).await.expect("run_now failed"));
    assert!(
        !q.run_now(later).await.expect("run_now failed"),
        "a running job"
    );
    let due = enqueue(&*q, job("d")).await;
    assert!(!q.run_now(due).await.expect("run_now failed"), "a due job");
    q.ack(&lease_of(&claimed)).await.expect("ack failed");
    assert!(
        !q.run_now(later).await.expect("run_now failed"),
        "a completed job"
    );
    let cancelled = enqueue(&*q, job("c").delay(Duration::from_secs(3600))).await;
    assert_eq!(
        q.cancel(cancelled).await.expect("cancel failed"),
        CancelOutcome::Cancelled
    );
    assert!(
        !q.run_now(cancelled).await.expect("run_now failed"),
        "a cancelled job"
    );
    assert_eq!(get(&*q, cancelled).await.state, JobState::Cancelled);
}

/// A worker idle with a long poll interval (and a delayed job an hour away) is woken by
/// `run_now` on another handle and runs the job at once.
pub async fn run_now_wakes_idle_worker(f: &dyn Factory) {
    let [a, b] = f.make_pair(Setup::default()).await;
    let id = enqueue(&*a, job("w").delay(Duration::from_secs(3600))).await;
    let ran = Counter::default();
    let r = ran.clone();
    let w = Worker::new(as_queue(&b))
        .handle("w", move |_job: Job| {
            let r = r.clone();
            async move {
                r.bump();
                Ok(())
            }
        })
        .poll_interval(Duration::from_secs(60))
        .start()
        .expect("worker start failed");
    // Let the worker find nothing due and go to sleep.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(ran.get(), 0, "a job due in an hour ran");
    assert!(a.run_now(id).await.expect("run_now failed"));
    wait_until(
        "the idle worker to wake and run the job made due",
        WAIT,
        || async { ran.get() == 1 },
    )
    .await;
    w.shutdown(Duration::from_secs(5)).await;
    crate::support::assert_completed(&*a, id).await;
}

/// `delete` removes finished jobs only (completed, failed, cancelled); pending, running
/// and unknown jobs are `Ok(false)`. Stats follow.
pub async fn delete_only_finished_jobs(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    let done = enqueue(&*q, job("d").priority(3)).await;
    let failed = enqueue(&*q, job("d").priority(2)).await;
    let running = enqueue(&*q, job("d").priority(1)).await;
    let pending = enqueue(&*q, job("d")).await;
    let cancelled = enqueue(&*q, job("c")).await;
    let j = claim(&*q, &["d"]).await;
    q.ack(&lease_of(&j)).await.expect("ack failed");
    let j = claim(&*q, &["d"]).await;
    q.discard(&lease_of(&j), "no")
        .await
        .expect("discard failed");
    assert_eq!(claim(&*q, &["d"]).await.id, running);
    assert_eq!(
        q.cancel(cancelled).await.expect("cancel failed"),
        CancelOutcome::Cancelled
    );

    assert!(!q.delete(JobId::new()).await.expect("delete failed"));
    for (id, st) in [(pending, JobState::Pending), (running, JobState::Running)] {
        assert!(
            !q.delete(id).await.expect("delete failed"),
            "delete of a {st} job must return false"
        );
        assert_eq!(get(&*q, id).await.state, st, "delete changed a {st} job");
    }
    let completed_kept = q.get_job(done).await.expect("get_job failed").is_some();
    for id in [failed, cancelled] {
        assert!(q.delete(id).await.expect("delete failed"));
        assert!(q.get_job(id).await.expect("get_job failed").is_none());
        assert!(
            !q.delete(id).await.expect("delete failed"),
            "a second delete"
        );
    }
    if completed_kept {
        assert!(q.delete(done).await.expect("delete failed"));
        assert!(q.get_job(done).await.expect("get_job failed").is_none());
    }
    let stats = q.stats().await.expect("stats failed");
    assert_eq!(
        (
            stats.pending,
            stats.running,
            stats.completed,
            stats.failed,
            stats.cancelled
        ),
        (1, 1, 0, 0, 0)
    );
    for st in JobState::ALL {
        let n = listed(&*q, &JobFilter::new().state(st)).await.len() as u64;
        assert_eq!(n, stats.get(st), "stats and list disagree on {st}");
    }
}

/// Deleting a finished job frees the unique key it still holds: a window that outlived
/// the job no longer refuses a new job with the key.
pub async fn delete_frees_unique_key(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    let window = Duration::from_secs(3600);
    let first = enqueue(&*q, job("u").unique_for("w", window)).await;
    assert_eq!(
        q.cancel(first).await.expect("cancel failed"),
        CancelOutcome::Cancelled
    );
    assert_eq!(
        enqueue(&*q, job("u").unique_for("w", window)).await,
        first,
        "the window holds the key after the job ended"
    );
    assert!(q.delete(first).await.expect("delete failed"));
    let next = enqueue(&*q, job("u").unique_for("w", window)).await;
    assert_ne!(next, first, "deleting the job freed its key");
    assert_eq!(get(&*q, next).await.state, JobState::Pending);
    assert_eq!(
        enqueue(&*q, job("u").unique_for("w", window)).await,
        next,
        "the new job holds the key"
    );
}

/// `purge` deletes finished jobs of one state, oldest finished first, up to the limit
/// (0: 100), only those finished at least `older_than` ago; returns the count, frees
/// their unique keys, and refuses non-final states with `InvalidRequest`.
pub async fn purge_by_state_and_age(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    let mut cancelled = Vec::new();
    for i in 0..5 {
        let nj = if i == 0 {
            job("p").unique_for("held", Duration::from_secs(3600))
        } else {
            job("p")
        };
        let id = enqueue(&*q, nj).await;
        assert_eq!(
            q.cancel(id).await.expect("cancel failed"),
            CancelOutcome::Cancelled
        );
        cancelled.push(id);
    }
    let failed = enqueue(&*q, job("f")).await;
    let j = claim(&*q, &["f"]).await;
    q.discard(&lease_of(&j), "no")
        .await
        .expect("discard failed");
    let pending = enqueue(&*q, job("p")).await;

    for st in [JobState::Pending, JobState::Running] {
        match q.purge(st, Duration::ZERO, 10).await {
            Err(QueueError::InvalidRequest(msg)) => {
                assert!(msg.contains(st.as_str()), "the message names {st}: {msg}")
            }
            other => panic!("purge of {st} jobs must be InvalidRequest, got {other:?}"),
        }
    }
    let hour = Duration::from_secs(3600);
    assert_eq!(
        q.purge(JobState::Cancelled, hour, 0)
            .await
            .expect("purge failed"),
        0,
        "nothing finished an hour ago"
    );
    assert_eq!(
        q.purge(JobState::Cancelled, Duration::ZERO, 2)
            .await
            .expect("purge failed"),
        2,
        "the limit"
    );
    for &id in &cancelled[..2] {
        assert!(
            q.get_job(id).await.expect("get_job failed").is_none(),
            "the first to finish go first"
        );
    }
    for &id in &cancelled[2..] {
        assert_eq!(get(&*q, id).await.state, JobState::Cancelled);
    }
    assert_ne!(
        enqueue(&*q, job("p").unique_for("held", hour)).await,
        cancelled[0],
        "purge freed the key the job still held"
    );
    assert_eq!(
        q.purge(JobState::Cancelled, Duration::ZERO, 0)
            .await
            .expect("purge failed"),
        3
    );
    assert_eq!(
        q.purge(JobState::Cancelled, Duration::ZERO, 0)
            .await
            .expect("purge failed"),
        0
    );
    assert_eq!(get(&*q, failed).await.state, JobState::Failed);
    assert_eq!(
        q.purge(JobState::Completed, Duration::ZERO, 0)
            .await
            .expect("purge failed"),
        0
    );
    assert_eq!(
        q.purge(JobState::Failed, Duration::ZERO, 1)
            .await
            .expect("purge failed"),
        1
    );
    assert!(q.get_job(failed).await.expect("get_job failed").is_none());
    assert_eq!(get(&*q, pending).await.state, JobState::Pending);
    let stats = q.stats().await.expect("stats failed");
    assert_eq!(
        (stats.pending, stats.failed, stats.cancelled),
        (2, 0, 0),
        "stats after the purges"
    );
}

/// `oldest_due` is `None` for an empty queue and for one with only future jobs; otherwise
/// the earliest `scheduled_at` of the due pending jobs, whatever their priority, paused
/// kinds included, running and finished jobs not.
pub async fn oldest_due_is_the_earliest_due_job(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    assert_eq!(q.oldest_due().await.expect("oldest_due failed"), None);
    enqueue(&*q, job("o").delay(Duration::from_secs(3600))).await;
    assert_eq!(
        q.oldest_due().await.expect("oldest_due failed"),
        None,
        "only a future job"
    );

    let now = OffsetDateTime::now_utc();
    let ago = |s: i64| now - time::Duration::seconds(s);
    enqueue(&*q, job("o").priority(9).run_at(ago(5))).await;
    enqueue(&*q, job("o").priority(9).run_at(ago(7))).await;
    enqueue(&*q, job("o").priority(-3).run_at(ago(40))).await;
    enqueue(&*q, job("o").priority(5).run_at(ago(20))).await;
    let near = |t: Option<OffsetDateTime>, want: OffsetDateTime, what: &str| {
        let t = t.unwrap_or_else(|| panic!("{what}: no due job reported"));
        assert!(
            (t - want).abs() <= ROUNDING,
            "{what}: oldest_due is {t}, expected {want}"
        );
    };
    near(
        q.oldest_due().await.expect("oldest_due failed"),
        ago(40),
        "across priorities",
    );

    // A paused kind's job still waits: it counts.
    q.pause_kind("paused").await.expect("pause failed");
    enqueue(&*q, job("paused").priority(2).run_at(ago(90))).await;
    near(
        q.oldest_due().await.expect("oldest_due failed"),
        ago(90),
        "a paused kind",
    );
    // A job that started running no longer waits.
    q.resume_kind("paused").await.expect("resume failed");
    let j = claim(&*q, &["paused"]).await;
    near(
        q.oldest_due().await.expect("oldest_due failed"),
        ago(40),
        "after the oldest was claimed",
    );
    q.ack(&lease_of(&j)).await.expect("ack failed");
    while let Some(j) = q.dequeue(&["o"]).await.expect("dequeue failed") {
        q.ack(&lease_of(&j)).await.expect("ack failed");
    }
    assert_eq!(
        q.oldest_due().await.expect("oldest_due failed"),
        None,
        "only the future job is left"
    );
}

/// `finished_at` is `None` while a job is pending or running, set (near now) when it
/// completes, fails or is cancelled, and cleared by a replay.
pub async fn finished_at_follows_the_final_states(f: &dyn Factory) {
    let setup = Setup::default().retry(RetryPolicy::immediate());
    let q = f.make(setup).await;
    let done = enqueue(&*q, job("f").priority(3)).await;
    let retried = enqueue(&*q, job("f").priority(2).max_attempts(2)).await;
    let waiting = enqueue(&*q, job("f").priority(1)).await;
    let cancelled = enqueue(&*q, job("f")).await;
    assert_eq!(get(&*q, done).await.finished_at, None, "pending");

    let j = claim(&*q, &["f"]).await;
    assert_eq!(j.id, done);
    assert_eq!(get(&*q, done).await.finished_at, None, "running");
    q.ack(&lease_of(&j)).await.expect("ack failed");
    if let Some(stored) = q.get_job(done).await.expect("get_job failed") {
        let at = stored.finished_at.expect("a completed job has finished_at");
        assert_near_now(at, "finished_at of a completed job");
    }

    let j = claim(&*q, &["f"]).await;
    assert_eq!(j.id, retried);
    q.nack(&lease_of(&j), "again").await.expect("nack failed");
    let stored = get(&*q, retried).await;
    assert_eq!(
        (stored.state, stored.finished_at),
        (JobState::Pending, None),
        "a retried job has not finished"
    );

    let j = claim(&*q, &["f"]).await;
    assert_eq!(j.id, retried);
    q.discard(&lease_of(&j), "dead")
        .await
        .expect("discard failed");
    let stored = get(&*q, retried).await;
    assert_eq!(stored.state, JobState::Failed);
    assert_near_now(
        stored.finished_at.expect("a failed job has finished_at"),
        "finished_at of a failed job",
    );
    assert_eq!(
        q.cancel(cancelled).await.expect("cancel failed"),
        CancelOutcome::Cancelled
    );
    assert_near_now(
        get(&*q, cancelled)
            .await
            .finished_at
            .expect("a cancelled job has finished_at"),
        "finished_at of a cancelled job",
    );

    assert!(q.replay(retried).await.expect("replay failed"));
    assert_eq!(
        get(&*q, retried).await.finished_at,
        None,
        "replay clears finished_at"
    );
    let listed = q
        .list(&JobFilter::new().state(JobState::Cancelled))
        .await
        .expect("list failed");
    assert!(
        listed.iter().all(|j| j.finished_at.is_some()),
        "list carries finished_at"
    );
    assert_eq!(get(&*q, waiting).await.finished_at, None, "still pending");
}
