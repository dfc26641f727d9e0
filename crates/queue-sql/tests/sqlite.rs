//! The conformance suite and the SQL-specific behaviour, against SQLite files.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use queue_core::{
    Backend, Browsable, Job, JobId, JobState, LeaseStatus, Queue, QueueError, RetryPolicy, Worker,
    LEASE_EXPIRED,
};
use queue_sql::{SqlOptions, SqlQueue};
use queue_testkit::{Factory, Setup};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::SqlitePool;

/// Where the test databases go; files older than an hour are leftovers of dead runs.
fn test_dir() -> PathBuf {
    let dir = std::env::temp_dir().join("queue-sql-sqlite-tests");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A fresh database file, removed with its WAL files when dropped (best effort: open
/// connections keep their handle, which Unix allows).
struct TempDb(PathBuf);

impl TempDb {
    fn new() -> TempDb {
        let dir = test_dir();
        sweep(&dir);
        TempDb(dir.join(format!("{}.db", JobId::new().to_string().to_lowercase())))
    }

    fn url(&self) -> String {
        format!("sqlite:{}", self.0.display())
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
        }
    }
}

/// Removes database files of runs that died before cleaning up.
fn sweep(dir: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > Duration::from_secs(3600));
        if old {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// A pool of our own on the file, with the settings a user would pick.
async fn user_pool(db: &TempDb) -> SqlitePool {
    let opts: SqliteConnectOptions = db.url().parse().unwrap();
    SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(
            opts.create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(10)),
        )
        .await
        .unwrap()
}

/// Waits (bounded) until `cond` holds; panics with `what` otherwise.
async fn eventually<F, Fut>(what: &str, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(30);
    while !cond().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A file per check.
#[derive(Default)]
struct SqliteFactory {
    made: Mutex<Vec<TempDb>>,
}

#[async_trait]
impl Factory for SqliteFactory {
    async fn make(&self, setup: Setup) -> Arc<dyn Backend> {
        let db = TempDb::new();
        let opts = SqlOptions::default()
            .lease_timeout(setup.lease_timeout)
            .retry(setup.retry);
        let q = SqlQueue::connect_with(&db.url(), opts).await.unwrap();
        self.made.lock().unwrap().push(db);
        Arc::new(q)
    }

    /// Two queues on one file, each with its own pool and writer, as two processes
    /// would have.
    async fn make_pair(&self, setup: Setup) -> [Arc<dyn Backend>; 2] {
        let db = TempDb::new();
        let opts = SqlOptions::default()
            .lease_timeout(setup.lease_timeout)
            .retry(setup.retry);
        let a = SqlQueue::connect_with(&db.url(), opts.clone())
            .await
            .unwrap();
        let b = SqlQueue::connect_with(&db.url(), opts).await.unwrap();
        self.made.lock().unwrap().push(db);
        [Arc::new(a), Arc::new(b)]
    }

    async fn cleanup(&self) {
        self.made.lock().unwrap().clear();
    }
}

queue_testkit::conformance!(SqliteFactory::default());

#[tokio::test]
async fn connect_picks_sqlite_from_the_url() {
    let db = TempDb::new();
    let q = SqlQueue::connect(&db.url()).await.unwrap();
    assert_eq!(q.dialect(), queue_sql::Dialect::Sqlite);
    let id = q
        .enqueue(Job::new("k", serde_json::json!(1)))
        .await
        .unwrap();
    assert_eq!(
        q.get_job(id).await.unwrap().unwrap().state,
        JobState::Pending
    );

    // An in-memory database works too (one connection keeps it alive).
    let mem = SqlQueue::connect("sqlite::memory:").await.unwrap();
    let id = mem
        .enqueue(Job::new("k", serde_json::json!(2)))
        .await
        .unwrap();
    assert_eq!(mem.dequeue(&["k"]).await.unwrap().unwrap().id, id);
}

#[tokio::test]
async fn transactional_enqueue_follows_commit_and_rollback() {
    let db = TempDb::new();
    let pool = user_pool(&db).await;
    let q = SqlQueue::from_sqlite_pool(pool.clone(), SqlOptions::default())
        .await
        .unwrap();

    let mut tx = pool.begin().await.unwrap();
    let rolled = q
        .enqueue_tx(&mut *tx, Job::new("k", serde_json::json!("rolled back")))
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    assert!(q.get_job(rolled).await.unwrap().is_none());

    // The recommended form for a transaction that reads before it enqueues.
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.unwrap();
    let kept = q
        .enqueue_tx(
            &mut *tx,
            Job::new("k", serde_json::json!("kept")).unique("once"),
        )
        .await
        .unwrap();
    // The same unique key inside the same transaction resolves to the first job.
    let again = q
        .enqueue_tx(
            &mut *tx,
            Job::new("k", serde_json::json!("dup")).unique("once"),
        )
        .await
        .unwrap();
    assert_eq!(again, kept);
    tx.commit().await.unwrap();
    assert_eq!(
        q.get_job(kept).await.unwrap().unwrap().state,
        JobState::Pending
    );
    assert_eq!(q.stats().await.unwrap().pending, 1);

    // A connection outside any transaction gets a transaction of its own.
    let mut conn = pool.acquire().await.unwrap();
    let plain = q
        .enqueue_tx(&mut *conn, Job::new("k", serde_json::json!("plain")))
        .await
        .unwrap();
    drop(conn);
    assert!(q.get_job(plain).await.unwrap().is_some());
    assert_eq!(q.stats().await.unwrap().pending, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_run_twice_and_concurrently() {
    let db = TempDb::new();
    // Several queues over one shared pool, and several over pools of their own, all
    // created at once.
    let shared = user_pool(&db).await;
    let mut opens = Vec::new();
    for i in 0..8 {
        let shared = shared.clone();
        let url = db.url();
        opens.push(tokio::spawn(async move {
            if i % 2 == 0 {
                SqlQueue::from_sqlite_pool(shared, SqlOptions::default()).await
            } else {
                SqlQueue::connect(&url).await
            }
        }));
    }
    let mut queues = Vec::new();
    for h in opens {
        queues.push(h.await.unwrap().unwrap());
    }
    let id = queues[0]
        .enqueue(Job::new("k", serde_json::json!(null)))
        .await
        .unwrap();
    // Opening again later changes nothing and keeps the data.
    let again = SqlQueue::from_sqlite_pool(shared.clone(), SqlOptions::default())
        .await
        .unwrap();
    assert!(again.get_job(id).await.unwrap().is_some());
    for q in &queues {
        assert_eq!(q.stats().await.unwrap().pending, 1);
    }
    let versions: Vec<i64> = sqlx::query_scalar("SELECT version FROM queue_jobs_migrations")
        .fetch_all(&shared)
        .await
        .unwrap();
    assert_eq!(versions, vec![1, 2, 3, 4, 5, 6, 7]);

    // Dropped and opened again: the schema comes back, once.
    again.drop_schema().await.unwrap();
    let _ = SqlQueue::from_sqlite_pool(shared.clone(), SqlOptions::default())
        .await
        .unwrap();
    let versions: Vec<i64> = sqlx::query_scalar("SELECT version FROM queue_jobs_migrations")
        .fetch_all(&shared)
        .await
        .unwrap();
    assert_eq!(versions, vec![1, 2, 3, 4, 5, 6, 7]);
}

#[tokio::test]
async fn custom_tables_are_independent_and_unsafe_names_are_errors() {
    let db = TempDb::new();
    let pool = user_pool(&db).await;
    let qa = SqlQueue::from_sqlite_pool(pool.clone(), SqlOptions::default().table("a_jobs"))
        .await
        .unwrap();
    let qb = SqlQueue::from_sqlite_pool(pool.clone(), SqlOptions::default().table("b_jobs"))
        .await
        .unwrap();
    let a = qa
        .enqueue(Job::new("k", serde_json::json!(1)).unique("key"))
        .await
        .unwrap();
    // The same unique key in the other table is another key.
    let b = qb
        .enqueue(Job::new("k", serde_json::json!(2)).unique("key"))
        .await
        .unwrap();
    assert_ne!(a, b);
    assert_eq!(qa.stats().await.unwrap().pending, 1);
    assert_eq!(qb.dequeue(&[]).await.unwrap().unwrap().id, b);
    assert!(qb.dequeue(&[]).await.unwrap().is_none());
    assert_eq!(qa.stats().await.unwrap().pending, 1);
    qb.drop_schema().await.unwrap();
    assert_eq!(qa.get_job(a).await.unwrap().unwrap().id, a);

    for bad in [
        "jobs; DROP TABLE x",
        "1abc",
        "",
        "a b",
        "a\"b",
        &"x".repeat(49),
    ] {
        let r = SqlQueue::from_sqlite_pool(pool.clone(), SqlOptions::default().table(bad)).await;
        assert!(matches!(r, Err(QueueError::InvalidConfig(_))), "{bad:?}");
        let r = SqlQueue::connect_with(&db.url(), SqlOptions::default().table(bad)).await;
        assert!(matches!(r, Err(QueueError::InvalidConfig(_))), "{bad:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_pools_claim_each_job_once_without_busy_errors() {
    const JOBS: usize = 2_000;
    const PRODUCERS: usize = 2;
    let db = TempDb::new();
    // Half the jobs are queued up front, half arrive from other pools while consumers run,
    // so enqueue transactions contend with claims and acks for the one write lock.
    let seed = SqlQueue::connect(&db.url()).await.unwrap();
    seed.enqueue_batch(
        (0..JOBS / 2)
            .map(|i| Job::new("k", serde_json::json!(i)))
            .collect(),
    )
    .await
    .unwrap();

    let seen = Arc::new(Mutex::new(Vec::new()));
    let done = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for p in 0..PRODUCERS {
        let q = SqlQueue::connect(&db.url()).await.unwrap();
        tasks.push(tokio::spawn(async move {
            let per = JOBS / 2 / PRODUCERS;
            for chunk in 0..per / 50 {
                let jobs = (0..50)
                    .map(|i| Job::new("k", serde_json::json!([p, chunk, i])))
                    .collect();
                q.enqueue_batch(jobs).await.unwrap();
            }
        }));
    }
    for _ in 0..3 {
        // Separate pools: separate connections contending for the one write lock.
        let q = SqlQueue::connect(&db.url()).await.unwrap();
        for _ in 0..3 {
            let q = q.clone();
            let seen = seen.clone();
            let done = done.clone();
            tasks.push(tokio::spawn(async move {
                let deadline = Instant::now() + Duration::from_secs(120);
                while done.load(Ordering::SeqCst) < JOBS {
                    assert!(Instant::now() < deadline, "jobs went missing");
                    let jobs = q.dequeue_batch(&["k"], 20).await.unwrap();
                    if jobs.is_empty() {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        continue;
                    }
                    let leases: Vec<_> = jobs.iter().map(|j| j.lease.unwrap()).collect();
                    for r in q.ack_batch(&leases).await.unwrap() {
                        r.unwrap();
                    }
                    done.fetch_add(jobs.len(), Ordering::SeqCst);
                    seen.lock().unwrap().extend(jobs.into_iter().map(|j| j.id));
                }
            }));
        }
    }
    for t in tasks {
        t.await.unwrap();
    }
    let seen = seen.lock().unwrap().clone();
    let unique: HashSet<_> = seen.iter().collect();
    assert_eq!(seen.len(), JOBS, "every job delivered once");
    assert_eq!(unique.len(), JOBS, "no job delivered twice");
    let stats = seed.stats().await.unwrap();
    assert_eq!(
        (stats.completed, stats.pending, stats.running),
        (JOBS as u64, 0, 0)
    );
}

#[tokio::test]
async fn corrupt_rows_are_set_aside_and_do_not_block() {
    let db = TempDb::new();
    let pool = user_pool(&db).await;
    let q = SqlQueue::from_sqlite_pool(pool.clone(), SqlOptions::default())
        .await
        .unwrap();
    // Best priority, so the claim meets them before the good job.
    let insert = "INSERT INTO queue_jobs (id, kind, payload, max_attempts, state, priority, \
                  created_at, scheduled_at) VALUES (?1, 'k', ?2, 3, 'pending', 10, 0, 0)";
    // SQLite lets a TEXT PRIMARY KEY be NULL: such a row is set aside by rowid.
    for (id, payload) in [
        (Some("not-a-ulid"), "{}"),
        (Some("01ARZ3NDEKTSV4RRFFQ69G5FAV"), "not json"),
        (None, "{}"),
    ] {
        sqlx::query(insert)
            .bind(id)
            .bind(payload)
            .execute(&pool)
            .await
            .unwrap();
    }
    let good = q
        .enqueue(Job::new("k", serde_json::json!("ok")))
        .await
        .unwrap();
    let claimed = q.dequeue_batch(&["k"], 10).await.unwrap();
    assert_eq!(claimed.iter().map(|j| j.id).collect::<Vec<_>>(), vec![good]);
    let rows: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT state, last_error FROM queue_jobs WHERE id IS NOT ?1")
            .bind(good.to_string())
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(rows.len(), 3);
    for (state, err) in rows {
        assert_eq!(state, "failed");
        assert!(err.unwrap().starts_with("corrupt row: "));
    }
    // Set aside, they are not claimed again; the good job is acked normally.
    assert!(q.dequeue(&[]).await.unwrap().is_none());
    q.ack(&claimed[0].lease.unwrap()).await.unwrap();
    // Listings skip what they cannot read instead of failing; stats still count them.
    let listed = q.list_jobs(None, 0).await.unwrap();
    assert_eq!(listed.iter().map(|j| j.id).collect::<Vec<_>>(), vec![good]);
    assert!(q
        .list_jobs(Some(JobState::Failed), 0)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(q.stats().await.unwrap().failed, 3);
}

#[tokio::test]
async fn big_batches_are_chunked_atomic_and_resolve_unique_keys() {
    let db = TempDb::new();
    let q = SqlQueue::connect(&db.url()).await.unwrap();
    let held = q
        .enqueue(Job::new("k", serde_json::json!("holder")).unique("held"))
        .await
        .unwrap();

    // More jobs than one insert statement takes (3,000), with keys: one held before the
    // batch, one repeated inside it.
    let mut jobs: Vec<_> = (0..7_500)
        .map(|i| Job::new("k", serde_json::json!(i)))
        .collect();
    jobs[10] = Job::new("k", serde_json::json!("a")).unique("held");
    jobs[20] = Job::new("k", serde_json::json!("b")).unique("fresh");
    jobs[7_000] = Job::new("k", serde_json::json!("c")).unique("fresh");
    let ids = q.enqueue_batch(jobs).await.unwrap();
    assert_eq!(ids.len(), 7_500);
    assert_eq!(ids[10], held);
    assert_eq!(ids[7_000], ids[20]);
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 7_500 - 2 + 1);
    assert_eq!(q.stats().await.unwrap().pending, 7_500 - 2 + 1);

    // A bad job anywhere rejects the whole batch before anything is written…
    let mut bad: Vec<_> = (0..10)
        .map(|i| Job::new("k", serde_json::json!(i)))
        .collect();
    bad.push(Job::new("", serde_json::json!(null)));
    assert!(matches!(
        q.enqueue_batch(bad).await,
        Err(QueueError::InvalidJob(_))
    ));
    // …and a taken id found only by the database rolls the whole batch back.
    let mut dup: Vec<_> = (0..4_000)
        .map(|i| Job::new("k", serde_json::json!(i)))
        .collect();
    dup.push(Job::new("k", serde_json::json!("dup")).id(held));
    assert!(matches!(
        q.enqueue_batch(dup).await,
        Err(QueueError::InvalidJob(_))
    ));
    assert_eq!(q.stats().await.unwrap().pending, 7_500 - 2 + 1);
}

#[tokio::test]
async fn batch_settlements_report_each_lease_exactly() {
    let db = TempDb::new();
    let q = SqlQueue::connect_with(
        &db.url(),
        SqlOptions::default().lease_timeout(Duration::from_millis(50)),
    )
    .await
    .unwrap();
    let id = q
        .enqueue(Job::new("k", serde_json::json!(1)).unique("u"))
        .await
        .unwrap();
    let other = q
        .enqueue(Job::new("k", serde_json::json!(2)))
        .await
        .unwrap();
    let first = q.dequeue(&[]).await.unwrap().unwrap().lease.unwrap();
    assert_eq!(first.id, id);
    // Let the lease run out and the job be claimed again: `first` is now stale.
    eventually("the lease to be reclaimed", || async {
        q.reclaim().await.unwrap();
        q.get_job(id).await.unwrap().unwrap().state == JobState::Pending
    })
    .await;
    q.set_lease_timeout(Duration::from_secs(30));
    let jobs = q.dequeue_batch(&[], 2).await.unwrap();
    let second = jobs.iter().find(|j| j.id == id).unwrap().lease.unwrap();
    let other_lease = jobs.iter().find(|j| j.id == other).unwrap().lease.unwrap();
    assert_ne!(first.token, second.token, "every claim gets a fresh token");
    assert_eq!(jobs.iter().find(|j| j.id == id).unwrap().attempts, 2);

    // One id twice in a batch, stale and fresh: only the fresh lease holds.
    assert_eq!(
        q.heartbeat(&[first, second, other_lease]).await.unwrap(),
        vec![LeaseStatus::Lost, LeaseStatus::Held, LeaseStatus::Held]
    );
    let results = q.ack_batch(&[first, second, other_lease]).await.unwrap();
    assert!(matches!(results[0], Err(QueueError::LeaseLost(x)) if x == id));
    assert!(results[1].is_ok() && results[2].is_ok());
    let done = q.get_job(id).await.unwrap().unwrap();
    assert_eq!(done.state, JobState::Completed);
    assert!(done.lease.is_none());
    // The key had no window: it was released with the job.
    let next = q
        .enqueue(Job::new("k", serde_json::json!(3)).unique("u"))
        .await
        .unwrap();
    assert_ne!(next, id);
}

#[tokio::test]
async fn nack_backoff_never_overflows_the_stored_time() {
    let db = TempDb::new();
    let pool = user_pool(&db).await;
    // A base so large that base << 40 does not fit in 64 bits, and no cap.
    let retry = RetryPolicy::exponential(Duration::from_secs(1_000_000), Duration::ZERO);
    let q = SqlQueue::from_sqlite_pool(pool.clone(), SqlOptions::default().retry(retry))
        .await
        .unwrap();
    let id = q
        .enqueue(Job::new("k", serde_json::json!(1)).max_attempts(100))
        .await
        .unwrap();
    sqlx::query("UPDATE queue_jobs SET attempts = 60 WHERE id = ?1")
        .bind(id.to_string())
        .execute(&pool)
        .await
        .unwrap();
    let job = q.dequeue(&[]).await.unwrap().unwrap();
    q.nack(&job.lease.unwrap(), "boom").await.unwrap();
    let job = q.get_job(id).await.unwrap().unwrap();
    assert_eq!(job.state, JobState::Pending);
    assert_eq!(job.last_error.as_deref(), Some("boom"));
    let years = (job.scheduled_at - time::OffsetDateTime::now_utc()).whole_days() / 365;
    assert!((70..=100).contains(&years), "{years} years");
}

#[tokio::test]
async fn expired_leases_are_reclaimed_on_their_own() {
    let db = TempDb::new();
    let q = SqlQueue::connect_with(
        &db.url(),
        SqlOptions::default()
            .lease_timeout(Duration::from_millis(50))
            .maintenance_every(Duration::from_millis(20)),
    )
    .await
    .unwrap();
    let again = q
        .enqueue(Job::new("k", serde_json::json!(1)).max_attempts(2))
        .await
        .unwrap();
    let last = q
        .enqueue(Job::new("k", serde_json::json!(2)).max_attempts(1))
        .await
        .unwrap();
    assert_eq!(q.dequeue_batch(&[], 2).await.unwrap().len(), 2);
    // No call from us: the maintenance timer returns one and fails the other.
    eventually("the timer to reclaim both leases", || async {
        let s = q.stats().await.unwrap();
        s.running == 0 && s.pending == 1 && s.failed == 1
    })
    .await;
    assert_eq!(
        q.get_job(again).await.unwrap().unwrap().state,
        JobState::Pending
    );
    let failed = q.get_job(last).await.unwrap().unwrap();
    assert_eq!(failed.last_error.as_deref(), Some(LEASE_EXPIRED));
}

/// Writes a pending row at priority 10 whose payload is not JSON, under a valid id,
/// holding unique key `key` (without a window) when given.
async fn corrupt_row(pool: &SqlitePool, key: Option<&str>) -> JobId {
    let id = JobId::new();
    sqlx::query(
        "INSERT INTO queue_jobs (id, kind, payload, max_attempts, state, priority, \
         created_at, scheduled_at, unique_key, unique_lock) \
         VALUES (?1, 'k', 'not json', 3, 'pending', 10, 0, 0, ?2, ?2)",
    )
    .bind(id.to_string())
    .bind(key)
    .execute(pool)
    .await
    .unwrap();
    id
}

/// Issue #10, item 16: a claim that met a corrupt row came back short, here empty, while
/// a good job waited behind it: the row set aside used up the claim's only slot.
#[tokio::test]
async fn a_claim_refills_the_slots_of_corrupt_rows() {
    let db = TempDb::new();
    let pool = user_pool(&db).await;
    let q = SqlQueue::from_sqlite_pool(pool.clone(), SqlOptions::default())
        .await
        .unwrap();
    let bad = corrupt_row(&pool, None).await.to_string();
    let good = q
        .enqueue(Job::new("k", serde_json::json!("ok")))
        .await
        .unwrap();

    let claimed = q.dequeue(&["k"]).await.unwrap().map(|j| j.id);
    assert_eq!(claimed, Some(good), "the good job behind the corrupt one");
    let (state, err): (String, Option<String>) =
        sqlx::query_as("SELECT state, last_error FROM queue_jobs WHERE id = ?1")
            .bind(&bad)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(state, "failed");
    assert!(err.unwrap().starts_with("corrupt row: payload"));
}

/// Issue #10, item 9: replay takes back a key whose last holder's window has lapsed,
/// though that holder still marks the key until someone frees it.
#[tokio::test]
async fn replay_retakes_a_key_whose_holder_window_lapsed() {
    use queue_core::Replayable;
    let db = TempDb::new();
    let q = SqlQueue::connect(&db.url()).await.unwrap();
    let dead = q
        .enqueue(Job::new("k", serde_json::json!(1)).unique("key"))
        .await
        .unwrap();
    let job = q.dequeue(&["k"]).await.unwrap().unwrap();
    q.discard(&job.lease.unwrap(), "dead").await.unwrap();
    let windowed = q
        .enqueue(Job::new("w", serde_json::json!(2)).unique_for("key", Duration::from_millis(20)))
        .await
        .unwrap();
    assert_ne!(windowed, dead);
    // Past the window: any later wait is as good.
    tokio::time::sleep(Duration::from_millis(100)).await;

    assert!(q.replay(dead).await.unwrap());
    let dup = q
        .enqueue(Job::new("k", serde_json::json!(3)).unique("key"))
        .await
        .unwrap();
    assert_eq!(dup, dead, "the replayed job holds the key again");
}

/// Issue #10, item 8 on SQLite (held already): a corrupt row set aside releases its
/// unique key held until the job ends, as any failed job does.
#[tokio::test]
async fn a_corrupt_row_set_aside_releases_its_unique_key() {
    let db = TempDb::new();
    let pool = user_pool(&db).await;
    let q = SqlQueue::from_sqlite_pool(pool.clone(), SqlOptions::default())
        .await
        .unwrap();
    let bad = corrupt_row(&pool, Some("once")).await;
    assert!(q.dequeue_batch(&["k"], 10).await.unwrap().is_empty());
    let next = q
        .enqueue(Job::new("k", serde_json::json!(1)).unique("once"))
        .await
        .unwrap();
    assert_ne!(next, bad, "the failed corrupt row no longer holds the key");
}

/// Issue #10, item 2 (audit of fail_corrupt): a set-aside acts only on the claim that met
/// the row, by its token; one arriving after the row was claimed again changes nothing.
#[tokio::test]
async fn a_late_set_aside_leaves_a_newer_claim_alone() {
    let db = TempDb::new();
    let pool = user_pool(&db).await;
    let _q = SqlQueue::from_sqlite_pool(pool.clone(), SqlOptions::default())
        .await
        .unwrap();
    let rowid: i64 = sqlx::query_scalar(
        "INSERT INTO queue_jobs (id, kind, payload, max_attempts, state, attempts, \
         created_at, scheduled_at, claim_token, lease_expires_at) \
         VALUES (?1, 'k', 'not json', 3, 'running', 2, 0, 0, 2, 0) RETURNING rowid",
    )
    .bind(JobId::new().to_string())
    .fetch_one(&pool)
    .await
    .unwrap();
    let sql = include_str!("../sql/sqlite/fail_corrupt.sql").replace("{table}", "queue_jobs");
    let set_aside = |token: i64| {
        let (pool, sql) = (pool.clone(), sql.clone());
        async move {
            sqlx::query(&sql)
                .bind(rowid)
                .bind("corrupt row: test")
                .bind(1_i64)
                .bind(token)
                .execute(&pool)
                .await
                .unwrap()
                .rows_affected()
        }
    };
    assert_eq!(set_aside(1).await, 0, "the first claim's token is stale");
    assert_eq!(set_aside(2).await, 1);
}

/// Issue #10, item 7 (leases): a lease as long as `Duration::MAX`, from the options or
/// set later, is capped at `MAX_DELAY` like any wait, so the claimed job's lease is still
/// a time: it used to overflow the stored deadline, and the job was set aside as corrupt.
#[tokio::test]
async fn an_endless_lease_is_capped_not_corrupt() {
    let db = TempDb::new();
    let opts = SqlOptions::default().lease_timeout(Duration::MAX);
    let q = SqlQueue::connect_with(&db.url(), opts).await.unwrap();
    for _ in 0..2 {
        let id = q
            .enqueue(Job::new("k", serde_json::json!(1)))
            .await
            .unwrap();
        let job = q.dequeue(&["k"]).await.unwrap();
        assert_eq!(
            job.as_ref().map(|j| j.id),
            Some(id),
            "claimed, not set aside"
        );
        let lease = job.unwrap().lease.unwrap();
        assert!(lease.expires_at > time::OffsetDateTime::now_utc() + time::Duration::days(36_500));
        q.ack(&lease).await.unwrap();
        q.set_lease_timeout(Duration::MAX);
    }
}

// Error texts and table names (issue #10, items 6 and 10).

#[tokio::test]
async fn nul_in_an_error_message_is_stored_replaced() {
    let db = TempDb::new();
    let opts = SqlOptions::default().retry(RetryPolicy::immediate());
    let q = SqlQueue::connect_with(&db.url(), opts).await.unwrap();
    q.enqueue(Job::new("k", serde_json::json!(1)).max_attempts(2))
        .await
        .unwrap();
    let job = q.dequeue(&[]).await.unwrap().unwrap();
    q.nack(&job.lease().unwrap(), "a\0b")
        .await
        .expect("nack with NUL");
    let stored = q.get_job(job.id).await.unwrap().unwrap();
    assert_eq!(stored.state, JobState::Pending);
    assert_eq!(stored.last_error.as_deref(), Some("a\u{FFFD}b"));

    let job = q
        .dequeue(&[])
        .await
        .unwrap()
        .expect("the retry is due at once");
    q.discard(&job.lease().unwrap(), "c\0d")
        .await
        .expect("discard with NUL");
    let stored = q.get_job(job.id).await.unwrap().unwrap();
    assert_eq!(stored.state, JobState::Failed);
    assert_eq!(stored.last_error.as_deref(), Some("c\u{FFFD}d"));
}

#[tokio::test]
async fn mixed_case_and_reserved_table_names_are_rejected() {
    let db = TempDb::new();
    let pool = user_pool(&db).await;
    for bad in ["BillingJobs", "Jobs2", "user", "order", "select"] {
        let r = SqlQueue::from_sqlite_pool(pool.clone(), SqlOptions::default().table(bad)).await;
        match r {
            Err(QueueError::InvalidConfig(msg)) => assert!(msg.contains(bad), "{msg}"),
            other => panic!("{bad:?} must be rejected, got {:?}", other.err()),
        }
    }
}

/// A worker whose only chance to see the job before its 30 s poll is a wake-up.
fn slow_polling_worker(q: Arc<SqlQueue>, ran: Arc<Mutex<Vec<JobId>>>) -> queue_core::WorkerHandle {
    Worker::new(q)
        .handle("k", move |job: Job| {
            let ran = ran.clone();
            async move {
                ran.lock().unwrap().push(job.id);
                Ok(())
            }
        })
        .poll_interval(Duration::from_secs(30))
        .start()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_by_another_process_wakes_idle_workers() {
    let db = TempDb::new();
    // Two pools on one file stand in for two processes: B never hears of A's enqueue
    // in-process, only through the file.
    let a = SqlQueue::connect(&db.url()).await.unwrap();
    let b = Arc::new(SqlQueue::connect(&db.url()).await.unwrap());
    let deaf = Arc::new(
        SqlQueue::connect_with(&db.url(), SqlOptions::default().notifications(false))
            .await
            .unwrap(),
    );
    let (ran, ran_deaf) = (Arc::default(), Arc::default());
    let worker = slow_polling_worker(b.clone(), Arc::clone(&ran));
    // Let both workers make their first (empty) claim and go to sleep.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let deaf_worker = slow_polling_worker(deaf.clone(), Arc::clone(&ran_deaf));
    tokio::time::sleep(Duration::from_millis(300)).await;

    let sent = Instant::now();
    let id = a
        .enqueue(Job::new("k", serde_json::json!(1)))
        .await
        .unwrap();
    let deadline = sent + Duration::from_secs(10);
    while !ran.lock().unwrap().contains(&id) && !ran_deaf.lock().unwrap().contains(&id) {
        assert!(
            Instant::now() < deadline,
            "no worker was woken by the other process's commit"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Far sooner than the 30 s poll, and by the watching queue: the one with
    // notifications off only polls.
    assert!(sent.elapsed() < Duration::from_secs(15));
    assert_eq!(*ran.lock().unwrap(), vec![id]);
    assert!(ran_deaf.lock().unwrap().is_empty());
    worker.shutdown(Duration::from_secs(5)).await;
    deaf_worker.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_version_1_database_is_migrated_and_keeps_its_jobs() {
    let db = TempDb::new();
    let pool = user_pool(&db).await;
    let q = SqlQueue::from_sqlite_pool(pool.clone(), SqlOptions::default())
        .await
        .unwrap();
    let id = q
        .enqueue(Job::new("k", serde_json::json!(1)))
        .await
        .unwrap();
    // Put the file back to how version 1 left it.
    sqlx::raw_sql(
        "CREATE INDEX queue_jobs_state_idx ON queue_jobs (state, id);
         DROP TABLE queue_jobs_paused;
         ALTER TABLE queue_jobs DROP COLUMN output;
         ALTER TABLE queue_jobs DROP COLUMN cancel_requested;
         DROP INDEX queue_jobs_keyed_pending_idx;
         DROP INDEX queue_jobs_keyed_running_idx;
         ALTER TABLE queue_jobs DROP COLUMN concurrency_key;
         DROP TABLE queue_jobs_limits;
         DROP TABLE queue_jobs_starts;
         DELETE FROM queue_jobs_migrations WHERE version IN (2, 3, 4, 5, 6);",
    )
    .execute(&pool)
    .await
    .unwrap();
    drop(q);

    let q = SqlQueue::from_sqlite_pool(pool.clone(), SqlOptions::default())
        .await
        .unwrap();
    let index: Option<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE name = 'queue_jobs_state_idx'")
            .fetch_optional(&pool)
            .await
            .unwrap();
    assert_eq!(index, None);
    let versions: Vec<i64> = sqlx::query_scalar("SELECT version FROM queue_jobs_migrations")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(versions, vec![1, 2, 3, 4, 5, 6, 7]);
    assert_eq!(q.stats().await.unwrap().pending, 1);
    let job = q.dequeue(&["k"]).await.unwrap().unwrap();
    assert_eq!(job.id, id);
    q.ack(&job.lease.unwrap()).await.unwrap();
    assert_eq!(q.stats().await.unwrap().completed, 1);
}

/// A database from before outputs gains the column (migration 4) and keeps its jobs; a
/// configured output limit replaces the default.
#[tokio::test]
async fn a_database_without_outputs_gains_the_column() {
    let db = TempDb::new();
    let pool = user_pool(&db).await;
    let opts = || SqlOptions::default().max_output_bytes(8);
    let q = SqlQueue::from_sqlite_pool(pool.clone(), opts())
        .await
        .unwrap();
    let ids = q
        .enqueue_batch(vec![
            Job::new("k", serde_json::json!(1)),
            Job::new("k", serde_json::json!(2)),
        ])
        .await
        .unwrap();
    q.close().await.unwrap();
    drop(q);
    sqlx::raw_sql(
        "ALTER TABLE queue_jobs DROP COLUMN output;
         DELETE FROM queue_jobs_migrations WHERE version = 4;",
    )
    .execute(&pool)
    .await
    .unwrap();

    let q = SqlQueue::from_sqlite_pool(pool.clone(), opts())
        .await
        .unwrap();
    queue_testkit::output::assert_output_limit_of_eight(&q, "k", [ids[0], ids[1]]).await;
    let stats = q.stats().await.unwrap();
    assert_eq!((stats.running, stats.completed), (1, 1));
}

/// A queue on `db` with its own pool and writer, as another process would have.
async fn handle(db: &TempDb, opts: SqlOptions) -> Arc<SqlQueue> {
    Arc::new(SqlQueue::connect_with(&db.url(), opts).await.unwrap())
}

#[tokio::test]
async fn a_concurrency_key_round_trips() {
    let db = TempDb::new();
    let q = handle(&db, SqlOptions::default()).await;
    let keyed = q
        .enqueue(Job::new("k", serde_json::json!(1)).concurrency_key("customer:7"))
        .await
        .unwrap();
    let plain = q
        .enqueue(Job::new("k", serde_json::json!(2)))
        .await
        .unwrap();
    let got = q.get_job(keyed).await.unwrap().unwrap();
    assert_eq!(got.concurrency_key.as_deref(), Some("customer:7"));
    let got = q.get_job(plain).await.unwrap().unwrap();
    assert_eq!(got.concurrency_key, None);
    let listed = q.list_jobs(Some(JobState::Pending), 10).await.unwrap();
    let key_of = |id| {
        listed
            .iter()
            .find(|j| j.id == id)
            .map(|j| j.concurrency_key.clone())
    };
    assert_eq!(key_of(keyed), Some(Some("customer:7".into())));
    assert_eq!(key_of(plain), Some(None));
    // Claimed with a limit stored (the limited path) and without (the plain one).
    q.set_limit("k", queue_core::Limit::per_key(5))
        .await
        .unwrap();
    let claimed = q.dequeue_batch(&["k"], 10).await.unwrap();
    assert_eq!(claimed.len(), 2);
    let by_id = |id| claimed.iter().find(|j| j.id == id).unwrap();
    assert_eq!(by_id(keyed).concurrency_key.as_deref(), Some("customer:7"));
    assert_eq!(by_id(plain).concurrency_key, None);
    // A bad key is refused before anything is written.
    let err = q
        .enqueue(Job::new("k", serde_json::json!(3)).concurrency_key(""))
        .await
        .unwrap_err();
    assert!(matches!(err, QueueError::InvalidJob(_)), "{err:?}");
}

#[tokio::test]
async fn limits_are_stored_replaced_cleared_and_checked() {
    use queue_core::Limit;
    let db = TempDb::new();
    let a = handle(&db, SqlOptions::default()).await;
    let b = handle(&db, SqlOptions::default()).await;
    let limit = Limit::per_key(2)
        .with_concurrency(4)
        .with_rate(10, Duration::from_millis(1500))
        .with_rate_per_key(3, Duration::from_secs(60));
    a.set_limit("x", limit.clone()).await.unwrap();
    a.set_limit("y", Limit::concurrency(1)).await.unwrap();
    let all = b.limits().await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all["x"], limit);
    assert_eq!(all["y"], Limit::concurrency(1));
    // Replaced whole, not merged.
    b.set_limit("x", Limit::rate(1, Duration::from_secs(1)))
        .await
        .unwrap();
    assert_eq!(
        a.limits().await.unwrap()["x"],
        Limit::rate(1, Duration::from_secs(1))
    );
    a.clear_limit("x").await.unwrap();
    a.clear_limit("never-limited").await.unwrap();
    assert_eq!(
        b.limits().await.unwrap().keys().collect::<Vec<_>>(),
        vec!["y"]
    );
    for bad in [Limit::default(), Limit::concurrency(0)] {
        let err = a.set_limit("x", bad).await.unwrap_err();
        assert!(matches!(err, QueueError::InvalidRequest(_)), "{err:?}");
    }
    assert!(a.set_limit("", Limit::concurrency(1)).await.is_err());
}

/// Running jobs the test itself counts, per kind and per (kind, key).
#[derive(Default)]
struct Running {
    by_kind: std::collections::HashMap<String, usize>,
    by_key: std::collections::HashMap<(String, String), usize>,
    most_by_kind: std::collections::HashMap<String, usize>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_hold_across_many_handles_and_claimers() {
    use queue_core::Limit;
    let db = TempDb::new();
    let opts = SqlOptions::default().lease_timeout(Duration::from_secs(120));
    let mut handles = Vec::new();
    for _ in 0..3 {
        handles.push(handle(&db, opts.clone()).await);
    }
    let q = &handles[0];
    q.set_limit("capped", Limit::concurrency(3)).await.unwrap();
    q.set_limit("keyed", Limit::per_key(1)).await.unwrap();
    let mut jobs = Vec::new();
    for i in 0..150 {
        // Some capped jobs carry keys too: with no per-key part they count kind-wide only.
        let job = Job::new("capped", serde_json::json!(i));
        jobs.push(if i % 3 == 0 {
            job.concurrency_key(format!("c{}", i % 5))
        } else {
            job
        });
        jobs.push(Job::new("keyed", serde_json::json!(i)).concurrency_key(format!("k{}", i % 30)));
    }
    q.enqueue_batch(jobs).await.unwrap();

    let running = Arc::new(Mutex::new(Running::default()));
    let done = Arc::new(AtomicUsize::new(0));
    // A claimer that failed leaves its jobs running: the others must not wait forever.
    let give_up = Instant::now() + Duration::from_secs(60);
    let mut tasks = Vec::new();
    for (n, h) in handles.iter().cycle().take(12).enumerate() {
        let (h, running, done) = (h.clone(), running.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            let kinds: &[&str] = if n % 4 == 0 { &["keyed"] } else { &[] };
            while done.load(Ordering::SeqCst) < 300 {
                assert!(
                    Instant::now() < give_up,
                    "the jobs were not all acked in time"
                );
                let batch = h.dequeue_batch(kinds, 4).await.unwrap();
                if batch.is_empty() {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    continue;
                }
                {
                    let mut r = running.lock().unwrap();
                    for job in &batch {
                        let n = r.by_kind.entry(job.kind.clone()).or_default();
                        *n += 1;
                        let n = *n;
                        let most = r.most_by_kind.entry(job.kind.clone()).or_default();
                        *most = (*most).max(n);
                        if job.kind == "capped" {
                            assert!(n <= 3, "{n} capped jobs running at once");
                        }
                        if let (Some(key), true) = (&job.concurrency_key, job.kind == "keyed") {
                            let n = r.by_key.entry((job.kind.clone(), key.clone())).or_default();
                            *n += 1;
                            assert!(*n <= 1, "{n} jobs of key {key} running at once");
                        }
                    }
                }
                tokio::time::sleep(Duration::from_millis(3)).await;
                for job in batch {
                    {
                        // Counted off before the ack frees the slot for other claimers.
                        let mut r = running.lock().unwrap();
                        *r.by_kind.get_mut(&job.kind).unwrap() -= 1;
                        if let (Some(key), true) = (&job.concurrency_key, job.kind == "keyed") {
                            *r.by_key.get_mut(&(job.kind.clone(), key.clone())).unwrap() -= 1;
                        }
                    }
                    h.ack(&job.lease.unwrap()).await.unwrap();
                    done.fetch_add(1, Ordering::SeqCst);
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let stats = q.stats().await.unwrap();
    assert_eq!((stats.completed, stats.pending, stats.running), (300, 0, 0));
    let r = running.lock().unwrap();
    assert!(r.most_by_kind["capped"] <= 3);
    assert_eq!(stats.limits.len(), 2);
    assert!(stats
        .limits
        .iter()
        .all(|l| l.running == 0 && l.waiting == 0));
}

#[tokio::test]
async fn a_busy_key_never_holds_up_another_and_keys_take_turns() {
    use queue_core::Limit;
    let db = TempDb::new();
    let q = handle(&db, SqlOptions::default()).await;
    q.set_limit("k", Limit::per_key(1)).await.unwrap();
    let a: Vec<_> = (0..500)
        .map(|i| Job::new("k", serde_json::json!(i)).concurrency_key("a"))
        .collect();
    let a_ids = q.enqueue_batch(a).await.unwrap();
    let b = q
        .enqueue(Job::new("k", serde_json::json!("b")).concurrency_key("b"))
        .await
        .unwrap();
    let claimed = q.dequeue_batch(&["k"], 10).await.unwrap();
    let ids: Vec<JobId> = claimed.iter().map(|j| j.id).collect();
    assert_eq!(ids, vec![a_ids[0], b]);
    // Both keys at their limit: nothing more, whatever waits.
    assert!(q.dequeue_batch(&["k"], 10).await.unwrap().is_empty());
    let stats = q.stats().await.unwrap();
    assert_eq!(stats.limits[0].running, 2);
    assert_eq!(stats.limits[0].waiting, 499);

    // While a's jobs crowd the head of the kind, claims walk the keys, one slot each,
    // in turn after the last one served.
    let (a0, b) = (&claimed[0], &claimed[1]);
    q.ack(&b.lease.unwrap()).await.unwrap();
    let more: Vec<_> = ["c", "d"]
        .iter()
        .flat_map(|k| (0..3).map(move |i| Job::new("k", serde_json::json!(i)).concurrency_key(*k)))
        .collect();
    q.enqueue_batch(more).await.unwrap();
    let mut keys = Vec::new();
    for _ in 0..4 {
        let job = q.dequeue(&["k"]).await.unwrap().unwrap();
        keys.push(job.concurrency_key.clone().unwrap());
        q.ack(&job.lease.unwrap()).await.unwrap();
    }
    // The cursor stood at "b" (the last key served): "c" comes next, then "d", then
    // wrapping past a (at its limit) to "c".
    assert_eq!(keys, vec!["c", "d", "c", "d"]);
    q.ack(&a0.lease.unwrap()).await.unwrap();
}

/// Keys `k{n-1}` down to `k0` (two digits), one job each: claim order is the reverse of
/// the keys' byte order, which the walk over the keys follows.
async fn keys_in_reverse(q: &SqlQueue, kind: &str, n: usize) -> Vec<JobId> {
    let jobs = (0..n)
        .rev()
        .map(|i| Job::new(kind, serde_json::json!(i)).concurrency_key(format!("k{i:02}")))
        .collect();
    q.enqueue_batch(jobs).await.unwrap()
}

#[tokio::test]
async fn a_window_full_of_keys_with_room_is_taken_in_claim_order() {
    use queue_core::Limit;
    let db = TempDb::new();
    let q = handle(&db, SqlOptions::default()).await;
    q.set_limit("k", Limit::per_key(1)).await.unwrap();
    // More jobs than the largest window two picks read.
    let ids = keys_in_reverse(&q, "k", 100).await;
    let got = q.dequeue_batch(&["k"], 2).await.unwrap();
    // The head of the kind, not the first keys of the walk (k00, k01).
    let got: Vec<JobId> = got.iter().map(|j| j.id).collect();
    assert_eq!(got, vec![ids[0], ids[1]]);
}

#[tokio::test]
async fn a_short_window_is_the_claim_and_a_crowded_one_falls_back_to_the_walk() {
    use queue_core::Limit;
    let db = TempDb::new();
    let q = handle(&db, SqlOptions::default()).await;
    q.set_limit("k", Limit::per_key(1)).await.unwrap();
    let first = keys_in_reverse(&q, "k", 2).await;
    let ahead = q
        .enqueue(Job::new("k", serde_json::json!("k01 again")).concurrency_key("k01"))
        .await
        .unwrap();
    // Every due job seen: both keys' first jobs, not k01's second; the key cursor stays.
    let got = q.dequeue_batch(&["k"], 10).await.unwrap();
    let mut got: Vec<JobId> = got.iter().map(|j| j.id).collect();
    got.sort();
    assert_eq!(got, first);
    // Now a window's worth of jobs of k00 and k01, both running, crowds the head.
    let crowd = (0..200)
        .map(|i| Job::new("k", serde_json::json!(i)).concurrency_key(format!("k0{}", i % 2)))
        .collect();
    q.enqueue_batch(crowd).await.unwrap();
    let [after, before] = [("k02", "after"), ("j", "before")]
        .map(|(key, p)| Job::new("k", serde_json::json!(p)).concurrency_key(key));
    let after = q.enqueue(after).await.unwrap();
    let before = q.enqueue(before).await.unwrap();
    // The walk finds the two keys past the crowd, from the start of the keys: the short
    // window moved no cursor (the walk would have left it at k01, serving k02 first).
    let got = q.dequeue_batch(&["k"], 1).await.unwrap();
    assert_eq!(got.iter().map(|j| j.id).collect::<Vec<_>>(), vec![before]);
    let got = q.dequeue_batch(&["k"], 10).await.unwrap();
    assert_eq!(got.iter().map(|j| j.id).collect::<Vec<_>>(), vec![after]);
    assert_eq!(
        q.get_job(ahead).await.unwrap().unwrap().state,
        JobState::Pending
    );
}

#[tokio::test]
async fn a_window_counts_a_keys_picks_across_priorities() {
    use queue_core::Limit;
    let db = TempDb::new();
    let q = handle(&db, SqlOptions::default()).await;
    q.set_limit("k", Limit::per_key(1)).await.unwrap();
    let jobs = vec![
        Job::new("k", serde_json::json!(0)).concurrency_key("a"),
        Job::new("k", serde_json::json!(1)).concurrency_key("b"),
        Job::new("k", serde_json::json!(2))
            .concurrency_key("a")
            .priority(5),
    ];
    let ids = q.enqueue_batch(jobs).await.unwrap();
    // a's urgent job takes a's one slot; its other job waits behind it.
    let got = q.dequeue_batch(&["k"], 10).await.unwrap();
    let got: Vec<JobId> = got.iter().map(|j| j.id).collect();
    assert_eq!(got, vec![ids[2], ids[1]]);
}

#[tokio::test]
async fn a_window_counts_each_keys_starts_against_its_rate() {
    use queue_core::Limit;
    let db = TempDb::new();
    let q = handle(&db, SqlOptions::default()).await;
    q.set_limit("r", Limit::rate_per_key(2, Duration::from_secs(600)))
        .await
        .unwrap();
    let jobs = (0..3)
        .map(|i| Job::new("r", serde_json::json!(i)).concurrency_key("a"))
        .chain([Job::new("r", serde_json::json!("b")).concurrency_key("b")])
        .collect();
    let ids = q.enqueue_batch(jobs).await.unwrap();
    // Two starts of a per claim's window, counted pick by pick.
    let got = q.dequeue_batch(&["r"], 10).await.unwrap();
    let got_ids: Vec<JobId> = got.iter().map(|j| j.id).collect();
    assert_eq!(got_ids, vec![ids[0], ids[1], ids[3]]);
    for job in got {
        q.ack(&job.lease.unwrap()).await.unwrap();
    }
    // Acked, yet a's two starts still fill its window.
    assert!(q.dequeue_batch(&["r"], 10).await.unwrap().is_empty());
    q.enqueue(Job::new("r", serde_json::json!("c")).concurrency_key("c"))
        .await
        .unwrap();
    assert_eq!(q.dequeue_batch(&["r"], 10).await.unwrap().len(), 1);
}

/// Once a kind's claims, asked for alone, fill their batch under a per-key concurrency and
/// nothing else, the next ones take in one statement outside a transaction. That statement
/// still honours the limit as stored, whatever another handle changed meanwhile: a lower
/// key concurrency, a kind-wide part, a pause.
#[tokio::test]
async fn a_claim_in_one_statement_honours_a_limit_changed_elsewhere() {
    use queue_core::Limit;
    let db = TempDb::new();
    let a = handle(&db, SqlOptions::default()).await;
    let b = handle(&db, SqlOptions::default()).await;
    a.set_limit("k", Limit::per_key(2)).await.unwrap();
    let keys = ["x", "k01", "x", "x", "k04", "k05", "k06", "k07"];
    let jobs = keys
        .iter()
        .map(|k| Job::new("k", serde_json::json!(k)).concurrency_key(*k))
        .collect();
    a.enqueue_batch(jobs).await.unwrap();
    let key_of = |job: &Job| job.concurrency_key.clone().unwrap();
    let got = a.dequeue_batch(&["k"], 2).await.unwrap();
    assert_eq!(got.iter().map(key_of).collect::<Vec<_>>(), ["x", "k01"]);
    // x runs one job, and its limit drops to one: its next job waits.
    b.set_limit("k", Limit::per_key(1)).await.unwrap();
    let got = a.dequeue_batch(&["k"], 1).await.unwrap();
    assert_eq!(got.iter().map(key_of).collect::<Vec<_>>(), ["k04"]);
    // Three running, three at most for the kind: nothing more.
    b.set_limit("k", Limit::per_key(1).with_concurrency(3))
        .await
        .unwrap();
    assert!(a.dequeue_batch(&["k"], 5).await.unwrap().is_empty());
    b.set_limit("k", Limit::per_key(1)).await.unwrap();
    let got = a.dequeue_batch(&["k"], 1).await.unwrap();
    assert_eq!(got.iter().map(key_of).collect::<Vec<_>>(), ["k05"]);
    b.pause_kind("k").await.unwrap();
    assert!(a.dequeue_batch(&["k"], 1).await.unwrap().is_empty());
    b.resume_kind("k").await.unwrap();
    let got = a.dequeue_batch(&["k"], 1).await.unwrap();
    assert_eq!(got.iter().map(key_of).collect::<Vec<_>>(), ["k06"]);
    // Unchanged since: the one statement takes the next.
    let got = a.dequeue_batch(&["k"], 1).await.unwrap();
    assert_eq!(got.iter().map(key_of).collect::<Vec<_>>(), ["k07"]);
    // Priority by priority: the urgent job first, then the later one.
    let more = vec![
        Job::new("k", serde_json::json!("urgent"))
            .concurrency_key("u")
            .priority(5),
        Job::new("k", serde_json::json!("later")).concurrency_key("v"),
    ];
    a.enqueue_batch(more).await.unwrap();
    let got = a.dequeue_batch(&["k"], 3).await.unwrap();
    assert_eq!(got.iter().map(key_of).collect::<Vec<_>>(), ["u", "v"]);
}

#[tokio::test]
async fn a_rate_allows_its_count_per_window() {
    use queue_core::Limit;
    let db = TempDb::new();
    let q = handle(&db, SqlOptions::default()).await;
    let other = handle(&db, SqlOptions::default()).await;
    q.set_limit("r", Limit::rate(5, Duration::from_secs(2)))
        .await
        .unwrap();
    let jobs: Vec<_> = (0..12)
        .map(|i| Job::new("r", serde_json::json!(i)))
        .collect();
    q.enqueue_batch(jobs).await.unwrap();
    q.enqueue(Job::new("free", serde_json::json!(0)))
        .await
        .unwrap();
    let started = Instant::now();
    let first = q.dequeue_batch(&[], 20).await.unwrap();
    // Five of the rated kind, and the other kind's job beside them.
    assert_eq!(first.iter().filter(|j| j.kind == "r").count(), 5);
    assert_eq!(first.iter().filter(|j| j.kind == "free").count(), 1);
    for job in first {
        q.ack(&job.lease.unwrap()).await.unwrap();
    }
    // Acked, yet the window still counts their starts, for every handle.
    let again = other.dequeue_batch(&["r"], 20).await.unwrap();
    if started.elapsed() < Duration::from_secs(2) {
        assert!(again.is_empty(), "{} more within the window", again.len());
    }
    let mut total = again.len();
    eventually("the window to pass", || {
        let other = other.clone();
        async move { !other.dequeue_batch(&["r"], 20).await.unwrap().is_empty() }
    })
    .await;
    total += 1;
    assert!(total <= 12);
}

#[tokio::test]
async fn an_expired_lease_frees_its_slot_before_reclaim() {
    use queue_core::Limit;
    let db = TempDb::new();
    let opts = SqlOptions::default()
        .lease_timeout(Duration::from_millis(300))
        // No reclaim during the test: the slot must come free from the deadline alone.
        .maintenance_every(Duration::from_secs(3600));
    let q = handle(&db, opts).await;
    q.set_limit("k", Limit::concurrency(1)).await.unwrap();
    let ids = q
        .enqueue_batch(vec![
            Job::new("k", serde_json::json!(1)),
            Job::new("k", serde_json::json!(2)),
        ])
        .await
        .unwrap();
    let first = q.dequeue(&["k"]).await.unwrap().unwrap();
    assert_eq!(first.id, ids[0]);
    let second = Arc::new(Mutex::new(None));
    eventually("the lease to run out", || {
        let (q, second) = (q.clone(), second.clone());
        async move {
            let job = q.dequeue(&["k"]).await.unwrap();
            let got = job.is_some();
            *second.lock().unwrap() = job;
            got
        }
    })
    .await;
    let second = second.lock().unwrap().take().unwrap();
    assert_eq!(second.id, ids[1]);
    assert_eq!(
        q.get_job(ids[0]).await.unwrap().unwrap().state,
        JobState::Running
    );
}

#[tokio::test]
async fn stats_show_running_and_waiting_per_limited_kind() {
    use queue_core::Limit;
    let db = TempDb::new();
    let q = handle(&db, SqlOptions::default()).await;
    let jobs: Vec<_> = (0..5)
        .map(|i| Job::new("c", serde_json::json!(i)))
        .chain((0..3).map(|i| Job::new("p", serde_json::json!(i)).concurrency_key("x")))
        .chain([Job::new("p", serde_json::json!("y")).concurrency_key("y")])
        .chain([Job::new("p", serde_json::json!("none"))])
        .chain([Job::new("c", serde_json::json!("later")).delay(Duration::from_secs(600))])
        .collect();
    q.enqueue_batch(jobs).await.unwrap();
    q.set_limit("c", Limit::concurrency(2)).await.unwrap();
    q.set_limit("p", Limit::per_key(1)).await.unwrap();
    let stats = q.stats().await.unwrap();
    let view = |s: &queue_core::Stats| {
        s.limits
            .iter()
            .map(|l| (l.kind.clone(), l.running, l.waiting))
            .collect::<Vec<_>>()
    };
    // Nothing runs yet: c holds 3 of its 5 due jobs back (not the delayed one); p holds
    // x's second and third.
    assert_eq!(view(&stats), vec![("c".into(), 0, 3), ("p".into(), 0, 2)]);
    let claimed = q.dequeue_batch(&[], 20).await.unwrap();
    assert_eq!(claimed.len(), 2 + 3);
    let stats = q.stats().await.unwrap();
    assert_eq!(view(&stats), vec![("c".into(), 2, 3), ("p".into(), 3, 2)]);
    assert_eq!(stats.limits[1].limit, Limit::per_key(1));
    // A paused kind waits on its pause, not its limit.
    q.pause_kind("c").await.unwrap();
    let stats = q.stats().await.unwrap();
    assert_eq!(view(&stats)[0], ("c".into(), 2, 0));
    q.resume_kind("c").await.unwrap();
    // Cleared: gone from stats, and the rest is claimable.
    q.clear_limit("c").await.unwrap();
    q.clear_limit("p").await.unwrap();
    assert!(q.stats().await.unwrap().limits.is_empty());
    assert_eq!(q.dequeue_batch(&[], 20).await.unwrap().len(), 3 + 2);
}
