//! The conformance suite and the SQL-specific behaviour, against SQLite files.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use queue_core::{Backend, Browsable, Job, JobId, JobState, Queue, QueueError};
use queue_sql::{SqlOptions, SqlQueue};
use queue_testkit::{Factory, Setup};

/// A fresh database file in the temp dir, removed (with its WAL files) by `remove`.
struct TempDb(PathBuf);

impl TempDb {
    fn new() -> TempDb {
        let name = format!("queue-test-{}.db", JobId::new().to_string().to_lowercase());
        TempDb(std::env::temp_dir().join(name))
    }

    fn url(&self) -> String {
        format!("sqlite:{}", self.0.display())
    }

    fn remove(&self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
        }
    }
}

async fn pool(db: &TempDb) -> sqlx::SqlitePool {
    // Through the crate, so tests get the same WAL and busy-timeout settings as users.
    let q = SqlQueue::connect(&db.url()).await.unwrap();
    q.drop_schema().await.unwrap();
    let opts: sqlx::sqlite::SqliteConnectOptions = db.url().parse().unwrap();
    sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(
            opts.journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                .busy_timeout(std::time::Duration::from_secs(10)),
        )
        .await
        .unwrap()
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

    async fn cleanup(&self) {
        for db in self.made.lock().unwrap().drain(..) {
            db.remove();
        }
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
    db.remove();
}

#[tokio::test]
async fn transactional_enqueue_follows_commit_and_rollback() {
    let db = TempDb::new();
    let pool = pool(&db).await;
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

    let mut tx = pool.begin().await.unwrap();
    let kept = q
        .enqueue_tx(&mut *tx, Job::new("k", serde_json::json!("kept")))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        q.get_job(kept).await.unwrap().unwrap().state,
        JobState::Pending
    );
    assert_eq!(q.stats().await.unwrap().pending, 1);
    db.remove();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_run_twice_and_concurrently() {
    let db = TempDb::new();
    let opens = (0..6).map(|_| {
        let url = db.url();
        tokio::spawn(async move { SqlQueue::connect(&url).await })
    });
    let mut queues = Vec::new();
    for h in opens {
        queues.push(h.await.unwrap().unwrap());
    }
    let again = SqlQueue::connect(&db.url()).await.unwrap();
    let id = queues[0]
        .enqueue(Job::new("k", serde_json::json!(null)))
        .await
        .unwrap();
    assert!(again.get_job(id).await.unwrap().is_some());
    let pool = pool(&db).await;
    let versions: Vec<i64> = sqlx::query_scalar("SELECT version FROM queue_jobs_migrations")
        .fetch_all(&pool)
        .await
        .unwrap_or_default();
    // `pool()` dropped the schema; opening again recreates version 1 exactly once.
    assert!(versions.is_empty());
    let _ = SqlQueue::from_sqlite_pool(pool.clone(), SqlOptions::default())
        .await
        .unwrap();
    let _ = SqlQueue::from_sqlite_pool(pool.clone(), SqlOptions::default())
        .await
        .unwrap();
    let versions: Vec<i64> = sqlx::query_scalar("SELECT version FROM queue_jobs_migrations")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(versions, vec![1]);
    db.remove();
}

#[tokio::test]
async fn custom_tables_are_independent_and_unsafe_names_are_errors() {
    let db = TempDb::new();
    let pool = pool(&db).await;
    let qa = SqlQueue::from_sqlite_pool(pool.clone(), SqlOptions::default().table("a_jobs"))
        .await
        .unwrap();
    let qb = SqlQueue::from_sqlite_pool(pool.clone(), SqlOptions::default().table("b_jobs"))
        .await
        .unwrap();
    qa.enqueue(Job::new("k", serde_json::json!(1)))
        .await
        .unwrap();
    assert_eq!(qa.stats().await.unwrap().pending, 1);
    assert_eq!(qb.stats().await.unwrap().pending, 0);
    assert!(qb.dequeue(&[]).await.unwrap().is_none());
    for bad in ["jobs; DROP TABLE x", "1abc", "", "a b"] {
        let r = SqlQueue::from_sqlite_pool(pool.clone(), SqlOptions::default().table(bad)).await;
        assert!(matches!(r, Err(QueueError::InvalidConfig(_))), "{bad:?}");
    }
    db.remove();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_pools_claim_each_job_once_without_busy_errors() {
    const JOBS: usize = 2_000;
    let db = TempDb::new();
    let seed = SqlQueue::connect(&db.url()).await.unwrap();
    let jobs = (0..JOBS)
        .map(|i| Job::new("k", serde_json::json!(i)))
        .collect();
    seed.enqueue_batch(jobs).await.unwrap();

    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for _ in 0..3 {
        // Separate pools: separate connections contending for the one write lock.
        let q = SqlQueue::connect(&db.url()).await.unwrap();
        for _ in 0..3 {
            let q = q.clone();
            let seen = seen.clone();
            tasks.push(tokio::spawn(async move {
                loop {
                    let jobs = q.dequeue_batch(&["k"], 20).await.unwrap();
                    if jobs.is_empty() {
                        return;
                    }
                    let leases: Vec<_> = jobs.iter().map(|j| j.lease.unwrap()).collect();
                    for r in q.ack_batch(&leases).await.unwrap() {
                        r.unwrap();
                    }
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
    assert_eq!(seed.stats().await.unwrap().completed, JOBS as u64);
    db.remove();
}

#[tokio::test]
async fn corrupt_rows_are_set_aside_and_do_not_block() {
    let db = TempDb::new();
    let pool = pool(&db).await;
    let q = SqlQueue::from_sqlite_pool(pool.clone(), SqlOptions::default())
        .await
        .unwrap();
    for (id, payload) in [
        ("not-a-ulid", "{}"),
        ("01ARZ3NDEKTSV4RRFFQ69G5FAV", "not json"),
    ] {
        sqlx::query(
            "INSERT INTO queue_jobs (id, kind, payload, max_attempts, state, priority, created_at, scheduled_at)
             VALUES (?1, 'k', ?2, 3, 'pending', 10, 0, 0)",
        )
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
        sqlx::query_as("SELECT state, last_error FROM queue_jobs WHERE id <> ?1")
            .bind(good.to_string())
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(rows.len(), 2);
    for (state, err) in rows {
        assert_eq!(state, "failed");
        assert!(err.unwrap().contains("corrupt row"));
    }
    // The listing skips what it cannot read instead of failing.
    let listed = q.list_jobs(None, 0).await.unwrap();
    assert_eq!(listed.iter().map(|j| j.id).collect::<Vec<_>>(), vec![good]);
    db.remove();
}
