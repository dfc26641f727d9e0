//! Limits stored in the backend (`Queue::set_limit`): at most N running per kind and per
//! concurrency key, at most N starts per window, across every handle, enforced by the
//! claim; a key at its limit holds up no other key, and a lost lease gives its slot back.
//!
//! A backend that does not enforce limits yet says so in [`Factory::limits`]; its checks
//! then hold it to refusing limits and keyed jobs with a typed error, never ignoring them.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use queue_core::{Backend, Job, JobId, JobState, Limit, LimitStats, QueueError, Worker};

use crate::support::{as_queue, enqueue, get, job, lease_of, wait_for, wait_until, WAIT};
use crate::{Factory, Setup};

/// Stores `limit` for `kind`, which must succeed.
async fn set(q: &dyn Backend, kind: &str, limit: Limit) {
    q.set_limit(kind, limit.clone()).await.unwrap_or_else(|e| {
        panic!(
            "set_limit({kind:?}, {limit:?}) failed: {}",
            queue_core::ErrorChain(&e)
        )
    });
}

/// Claims up to `max` of `kinds`, which must not fail.
async fn take(q: &dyn Backend, kinds: &[&str], max: usize) -> Vec<Job> {
    q.dequeue_batch(kinds, max)
        .await
        .expect("dequeue_batch failed")
}

/// Acks `job`, which must still hold its lease.
async fn ack(q: &dyn Backend, job: &Job) {
    q.ack(&lease_of(job)).await.expect("ack failed");
}

/// The ids of `jobs`, sorted.
fn ids(jobs: &[Job]) -> Vec<JobId> {
    let mut ids: Vec<JobId> = jobs.iter().map(|j| j.id).collect();
    ids.sort();
    ids
}

/// For a backend without limits: checks it refuses them (and keyed jobs) with a typed
/// error and returns true, so the calling check ends there.
async fn refuses_limits(f: &dyn Factory) -> bool {
    if f.limits() {
        return false;
    }
    let q = f.make(Setup::default()).await;
    assert!(
        matches!(
            q.set_limit("k", Limit::concurrency(1)).await,
            Err(QueueError::InvalidRequest(_))
        ),
        "a backend without limits must refuse set_limit with InvalidRequest"
    );
    assert!(
        matches!(
            q.enqueue(job("k").concurrency_key("a")).await,
            Err(QueueError::InvalidJob(_))
        ),
        "a backend without limits must refuse a keyed job with InvalidJob"
    );
    assert!(q.limits().await.expect("limits failed").is_empty());
    true
}

/// Limits are stored per kind, replaced by a later `set_limit`, listed by `limits()` on
/// every handle, and removed by `clear_limit` (twice is fine). Bad kinds and bad limits
/// are refused with typed errors and store nothing.
pub async fn limits_are_stored_listed_and_cleared(f: &dyn Factory) {
    if refuses_limits(f).await {
        return;
    }
    let [a, b] = f.make_pair(Setup::default()).await;
    let sync = Limit::per_key(1).with_concurrency(20);
    let resize = Limit::rate(100, Duration::from_secs(60));
    set(&*a, "sync", sync.clone()).await;
    set(&*a, "resize", Limit::concurrency(4)).await;
    set(&*a, "resize", resize.clone()).await;
    let listed = b.limits().await.expect("limits failed");
    assert_eq!(
        listed.into_iter().collect::<Vec<_>>(),
        vec![("resize".to_owned(), resize), ("sync".to_owned(), sync)],
        "the other handle lists both limits, the later one of resize"
    );

    for bad in [
        Limit::default(),
        Limit::concurrency(0),
        Limit::rate(1, Duration::ZERO),
    ] {
        assert!(
            matches!(
                a.set_limit("x", bad.clone()).await,
                Err(QueueError::InvalidRequest(_))
            ),
            "{bad:?} must be refused with InvalidRequest"
        );
    }
    for bad_kind in ["", " padded "] {
        assert!(
            matches!(
                a.set_limit(bad_kind, Limit::concurrency(1)).await,
                Err(QueueError::InvalidJob(_))
            ),
            "kind {bad_kind:?} must be refused with InvalidJob"
        );
    }

    b.clear_limit("sync").await.expect("clear_limit failed");
    b.clear_limit("sync")
        .await
        .expect("a second clear_limit failed");
    b.clear_limit("never-limited")
        .await
        .expect("clear_limit of a kind without a limit failed");
    let listed = a.limits().await.expect("limits failed");
    assert_eq!(listed.keys().collect::<Vec<_>>(), ["resize"]);
}

/// A job's concurrency key is stored and read back by `get_job`, `list` and the claim;
/// a bad key is refused with `InvalidJob` and stores nothing.
pub async fn concurrency_key_round_trips(f: &dyn Factory) {
    if refuses_limits(f).await {
        return;
    }
    let q = f.make(Setup::default()).await;
    let keyed = enqueue(&*q, job("k").concurrency_key("customer:42")).await;
    let plain = enqueue(&*q, job("k")).await;
    assert_eq!(
        get(&*q, keyed).await.concurrency_key.as_deref(),
        Some("customer:42")
    );
    assert_eq!(get(&*q, plain).await.concurrency_key, None);
    let listed = q.list_jobs(None, 10).await.expect("list_jobs failed");
    let listed_key = listed
        .iter()
        .find(|j| j.id == keyed)
        .map(|j| &j.concurrency_key);
    assert_eq!(listed_key, Some(&Some("customer:42".to_owned())));
    let claimed = take(&*q, &["k"], 10).await;
    let claimed_key = claimed
        .iter()
        .find(|j| j.id == keyed)
        .map(|j| &j.concurrency_key);
    assert_eq!(claimed_key, Some(&Some("customer:42".to_owned())));

    for bad in ["", "nul\0inside"] {
        assert!(
            matches!(
                q.enqueue(job("k").concurrency_key(bad)).await,
                Err(QueueError::InvalidJob(_))
            ),
            "concurrency key {bad:?} must be refused"
        );
    }
    assert!(matches!(
        q.enqueue(job("k").concurrency_key("k".repeat(256))).await,
        Err(QueueError::InvalidJob(_))
    ));
    assert_eq!(q.stats().await.expect("stats failed").pending, 0);
}

/// With `concurrency(2)`, two handles together hold at most two jobs of the kind; an ack
/// frees a slot for either handle; other kinds are claimed as usual meanwhile, even when
/// the limited kind's jobs come first in claim order.
pub async fn kind_concurrency_holds_across_handles(f: &dyn Factory) {
    if refuses_limits(f).await {
        return;
    }
    let [a, b] = f.make_pair(Setup::default()).await;
    set(&*a, "slow", Limit::concurrency(2)).await;
    for _ in 0..6 {
        enqueue(&*a, job("slow").priority(10)).await;
    }
    let fast = [
        enqueue(&*a, job("fast")).await,
        enqueue(&*a, job("fast")).await,
    ];

    let first = take(&*a, &[], 10).await;
    let slow: Vec<&Job> = first.iter().filter(|j| j.kind == "slow").collect();
    assert_eq!(slow.len(), 2, "two of the limited kind start, no more");
    let mut others: Vec<JobId> = first
        .iter()
        .filter(|j| j.kind == "fast")
        .map(|j| j.id)
        .collect();
    others.sort();
    let mut want = fast.to_vec();
    want.sort();
    assert_eq!(
        others, want,
        "the other kind is claimed beside the limited one"
    );
    assert!(
        take(&*b, &["slow"], 10).await.is_empty(),
        "the other handle gets none while two run"
    );

    ack(&*a, slow[0]).await;
    let next = take(&*b, &["slow"], 10).await;
    assert_eq!(
        next.len(),
        1,
        "an ack frees exactly one slot, for any handle"
    );
    assert!(take(&*a, &["slow"], 10).await.is_empty());
    let stats = a.stats().await.expect("stats failed");
    assert_eq!(
        stats.limits,
        vec![LimitStats {
            kind: "slow".into(),
            limit: Limit::concurrency(2),
            running: 2,
            waiting: 3,
        }],
        "stats show the limit, its running jobs and the due jobs it holds back"
    );
}

/// With `per_key(1)`, one job per key runs at once. Jobs of a key at its limit hold up
/// no other key, however many of them come first; jobs without a key are held only by
/// the kind-wide parts (none here).
pub async fn saturated_key_does_not_block_other_keys(f: &dyn Factory) {
    if refuses_limits(f).await {
        return;
    }
    let q = f.make(Setup::default()).await;
    set(&*q, "sync", Limit::per_key(1)).await;
    let busy: Vec<JobId> = {
        let batch = (0..300).map(|_| job("sync").concurrency_key("a")).collect();
        q.enqueue_batch(batch).await.expect("enqueue_batch failed")
    };
    let b = enqueue(&*q, job("sync").concurrency_key("b")).await;
    let unkeyed = [
        enqueue(&*q, job("sync")).await,
        enqueue(&*q, job("sync")).await,
    ];

    let got = take(&*q, &["sync"], 10).await;
    let mut want = vec![busy[0], b, unkeyed[0], unkeyed[1]];
    want.sort();
    assert_eq!(
        ids(&got),
        want,
        "a's first job, b's job past 299 of a's, and both unkeyed jobs"
    );
    assert!(
        take(&*q, &["sync"], 10).await.is_empty(),
        "a and b are at their limit"
    );
    let a_first = got.iter().find(|j| j.id == busy[0]).expect("a's job");
    ack(&*q, a_first).await;
    let next = take(&*q, &["sync"], 10).await;
    assert_eq!(ids(&next), vec![busy[1]], "the ack lets a's next job start");
    let stats = q.stats().await.expect("stats failed");
    assert_eq!(
        (stats.limits[0].running, stats.limits[0].waiting),
        (4, 298),
        "running: a's second, b's and the unkeyed ones; waiting: a's rest"
    );
}

/// With `per_key(2)`, a key's count goes down by one per job that ends: one ack of two
/// running jobs lets exactly one more of the key start, and the key's other jobs wait
/// while the other key's job is taken.
pub async fn key_counts_down_one_job_at_a_time(f: &dyn Factory) {
    if refuses_limits(f).await {
        return;
    }
    let q = f.make(Setup::default()).await;
    set(&*q, "sync", Limit::per_key(2)).await;
    let mut a = Vec::new();
    for _ in 0..5 {
        a.push(enqueue(&*q, job("sync").concurrency_key("a")).await);
    }
    let b = enqueue(&*q, job("sync").concurrency_key("b")).await;

    let first = take(&*q, &["sync"], 10).await;
    let mut want = vec![a[0], a[1], b];
    want.sort();
    assert_eq!(ids(&first), want, "two of a's jobs and b's");
    assert!(
        take(&*q, &["sync"], 10).await.is_empty(),
        "a is at 2 running"
    );

    let a0 = first.iter().find(|j| j.id == a[0]).expect("a's first job");
    ack(&*q, a0).await;
    let second = take(&*q, &["sync"], 10).await;
    assert_eq!(
        ids(&second),
        vec![a[2]],
        "one ack of a's two running jobs frees one slot"
    );
    assert!(
        take(&*q, &["sync"], 10).await.is_empty(),
        "a is at 2 running again"
    );

    let a1 = first.iter().find(|j| j.id == a[1]).expect("a's second job");
    ack(&*q, a1).await;
    ack(&*q, &second[0]).await;
    let third = take(&*q, &["sync"], 10).await;
    assert_eq!(
        ids(&third),
        vec![a[3], a[4]],
        "both slots free: a's last two jobs"
    );
}

/// With `rate(3, period)`, a claim starts three of ten due jobs and no more until the
/// window has passed; acks do not give starts back. Per-key rates count each key on its
/// own.
pub async fn rate_limit_holds_over_a_window(f: &dyn Factory) {
    if refuses_limits(f).await {
        return;
    }
    let q = f.make(Setup::default()).await;
    let period = Duration::from_secs(2);
    set(&*q, "mail", Limit::rate(3, period)).await;
    set(
        &*q,
        "hook",
        Limit::rate_per_key(1, Duration::from_secs(3600)),
    )
    .await;
    for _ in 0..10 {
        enqueue(&*q, job("mail")).await;
    }
    for key in ["a", "a", "b", "b"] {
        enqueue(&*q, job("hook").concurrency_key(key)).await;
    }

    let started = Instant::now();
    let first = take(&*q, &["mail"], 10).await;
    assert_eq!(first.len(), 3, "three starts per window");
    for j in &first {
        ack(&*q, j).await;
    }
    let again = take(&*q, &["mail"], 10).await;
    // Only meaningful while the window lasts; a stalled machine may have let it pass.
    if started.elapsed() < period {
        assert!(again.is_empty(), "acks do not give starts back");
    }
    let later = wait_for("the window to pass", WAIT + period, || async {
        let got = take(&*q, &["mail"], 10).await;
        (!got.is_empty()).then_some(got)
    })
    .await;
    if again.is_empty() {
        assert!(
            later.len() <= 3,
            "at most three in the next window, got {}",
            later.len()
        );
    }

    let hooks = take(&*q, &["hook"], 10).await;
    let keys: HashSet<_> = hooks.iter().map(|j| j.concurrency_key.clone()).collect();
    assert_eq!(hooks.len(), 2, "one start per key");
    assert_eq!(keys.len(), 2);
    for j in &hooks {
        ack(&*q, j).await;
    }
    assert!(take(&*q, &["hook"], 10).await.is_empty());
}

/// A job whose lease runs out gives its slot back, without an ack: a later claim takes
/// the next job of the kind (or the same one again).
pub async fn expired_lease_frees_its_slot(f: &dyn Factory) {
    if refuses_limits(f).await {
        return;
    }
    let q = f
        .make(Setup::default().lease(Duration::from_millis(400)))
        .await;
    set(&*q, "k", Limit::concurrency(1).with_per_key(1)).await;
    for _ in 0..3 {
        enqueue(&*q, job("k").concurrency_key("a")).await;
    }
    let held = take(&*q, &["k"], 10).await;
    assert_eq!(held.len(), 1);
    let next = wait_for("a slot after the lease ran out", WAIT, || async {
        let got = take(&*q, &["k"], 10).await;
        assert!(got.len() <= 1, "one slot, got {}", got.len());
        got.into_iter().next()
    })
    .await;
    assert_eq!(next.state, JobState::Running);
}

/// Many claimers on two handles, claiming and acking a kind with `concurrency(3)` and
/// `per_key(1)` over 8 keys, never together hold more than the limits (counted by the
/// claimers between claim and ack), and every job runs once.
pub async fn limits_hold_under_parallel_claimers(f: &dyn Factory) {
    if refuses_limits(f).await {
        return;
    }
    let [a, b] = f.make_pair(Setup::default()).await;
    set(&*a, "k", Limit::concurrency(3).with_per_key(1)).await;
    let total = 80;
    let batch = (0..total)
        .map(|i| job("k").concurrency_key(format!("key-{}", i % 8)))
        .collect();
    a.enqueue_batch(batch).await.expect("enqueue_batch failed");

    #[derive(Default)]
    struct Seen {
        running: usize,
        per_key: HashMap<String, usize>,
        done: HashSet<JobId>,
        worst: usize,
    }
    let seen = Arc::new(Mutex::new(Seen::default()));
    let mut tasks = Vec::new();
    for i in 0..6 {
        let q = Arc::clone(if i % 2 == 0 { &a } else { &b });
        let seen = Arc::clone(&seen);
        tasks.push(tokio::spawn(async move {
            let deadline = Instant::now() + WAIT * 6;
            while seen.lock().unwrap().done.len() < total && Instant::now() < deadline {
                let got = take(&*q, &["k"], 4).await;
                if got.is_empty() {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    continue;
                }
                {
                    let mut s = seen.lock().unwrap();
                    s.running += got.len();
                    s.worst = s.worst.max(s.running);
                    assert!(s.running <= 3, "{} running at once, limit 3", s.running);
                    for j in &got {
                        let key = j.concurrency_key.clone().expect("keyed job");
                        let n = s.per_key.entry(key.clone()).or_default();
                        *n += 1;
                        assert!(*n <= 1, "{n} running for {key}, limit 1");
                    }
                }
                tokio::time::sleep(Duration::from_millis(3)).await;
                for j in &got {
                    {
                        // Uncounted before the ack: the count never runs behind the backend.
                        let mut s = seen.lock().unwrap();
                        s.running -= 1;
                        if let Some(key) = &j.concurrency_key {
                            *s.per_key.entry(key.clone()).or_default() -= 1;
                        }
                        assert!(s.done.insert(j.id), "job {} ran twice", j.id);
                    }
                    ack(&*q, j).await;
                }
            }
        }));
    }
    for t in tasks {
        t.await.expect("a claimer panicked");
    }
    let s = seen.lock().unwrap();
    assert_eq!(s.done.len(), total, "every job ran");
    assert!(s.worst >= 1);
}

/// A worker pool of 8 on a kind limited to 2 at once runs every job, never more than 2
/// at a time, picking up the rest as slots free.
pub async fn worker_keeps_to_the_stored_limit(f: &dyn Factory) {
    if refuses_limits(f).await {
        return;
    }
    let q = f.make(Setup::default()).await;
    set(&*q, "k", Limit::concurrency(2)).await;
    for _ in 0..12 {
        enqueue(&*q, job("k")).await;
    }
    let now = Arc::new(Mutex::new((0usize, 0usize, 0usize)));
    let counts = Arc::clone(&now);
    let worker = Worker::new(as_queue(&q))
        .handle("k", move |_job: Job| {
            let counts = Arc::clone(&counts);
            async move {
                {
                    let mut c = counts.lock().unwrap();
                    c.0 += 1;
                    c.1 = c.1.max(c.0);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
                let mut c = counts.lock().unwrap();
                c.0 -= 1;
                c.2 += 1;
                Ok::<(), queue_core::JobError>(())
            }
        })
        .concurrency(8)
        .poll_interval(Duration::from_millis(50))
        .start()
        .expect("worker failed to start");
    wait_until("every job to run", WAIT * 4, || async {
        now.lock().unwrap().2 == 12
    })
    .await;
    worker.shutdown(WAIT).await;
    let (_, most, _) = *now.lock().unwrap();
    assert!(most <= 2, "{most} ran at once, limit 2");
}
