//! The conformance suite and the SQL-specific behaviour, against MySQL or MariaDB.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use queue_core::{Backend, Browsable, Job, JobId, JobState, NewJob, Queue, QueueError, Replayable};
use queue_sql::{SqlOptions, SqlQueue};
use queue_testkit::{Factory, Setup};
use sqlx::mysql::{MySqlConnectOptions, MySqlPoolOptions};
use sqlx::{Executor, MySqlPool};

/// The MySQL the tests use: `MYSQL_URL`, else the local default.
fn mysql_url() -> String {
    std::env::var("MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".to_string())
}

/// A table name no other test uses: `qt_` and a lowercase ULID.
fn fresh_table() -> String {
    format!("qt_{}", JobId::new().to_string().to_lowercase())
}

/// A pool on the test database; fails loudly when the server is missing.
async fn pool(max: u32) -> MySqlPool {
    let url = mysql_url();
    MySqlPoolOptions::new()
        .max_connections(max)
        .connect(&url)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "MySQL is not reachable at {url}: {e}. Start it (or run `cargo xtask test`, \
                 which starts one), or set QUEUE_SKIP_SERVERS=1 to skip server tests."
            )
        })
}

async fn queue_on(pool: MySqlPool, table: &str) -> SqlQueue {
    SqlQueue::from_mysql_pool(pool, SqlOptions::default().table(table))
        .await
        .unwrap()
}

/// Gives each check its own table on the shared server, and drops them afterwards.
#[derive(Default)]
struct MySqlFactory {
    made: Mutex<Vec<SqlQueue>>,
}

impl MySqlFactory {
    async fn open(&self, table: String, setup: Setup) -> Arc<dyn Backend> {
        let opts = SqlOptions::default()
            .table(table)
            .lease_timeout(setup.lease_timeout)
            .retry(setup.retry);
        let q = SqlQueue::from_mysql_pool(pool(8).await, opts)
            .await
            .expect("open queue");
        self.made.lock().unwrap().push(q.clone());
        Arc::new(q)
    }
}

#[async_trait]
impl Factory for MySqlFactory {
    async fn make(&self, setup: Setup) -> Arc<dyn Backend> {
        self.open(fresh_table(), setup).await
    }

    /// Two pools on one table, as two processes would have.
    async fn make_pair(&self, setup: Setup) -> [Arc<dyn Backend>; 2] {
        let table = fresh_table();
        let first = self.open(table.clone(), setup).await;
        [first, self.open(table, setup).await]
    }

    async fn cleanup(&self) {
        let made: Vec<SqlQueue> = std::mem::take(&mut *self.made.lock().unwrap());
        for q in made {
            let _ = q.drop_schema().await;
        }
    }
}

queue_testkit::conformance!(MySqlFactory::default());

#[tokio::test]
async fn stale_tables_are_swept() {
    // Tables of runs that died before cleaning up, older than 30 minutes.
    let pool = pool(2).await;
    let stale: Vec<String> = sqlx::query_scalar(
        "SELECT LEFT(table_name, CHAR_LENGTH(table_name) - CHAR_LENGTH('_migrations'))
         FROM information_schema.tables
         WHERE table_schema = DATABASE() AND table_name LIKE 'qt\\_%\\_migrations'
           AND create_time < NOW() - INTERVAL 30 MINUTE",
    )
    .fetch_all(&pool)
    .await
    .unwrap_or_default();
    for table in stale {
        let drop = include_str!("../sql/mysql/drop.sql").replace("{table}", &table);
        let _ = pool.execute(drop.as_str()).await;
    }
}

#[tokio::test]
async fn connect_picks_mysql_from_the_url() {
    let table = fresh_table();
    for url in [mysql_url(), mysql_url().replacen("mysql:", "mariadb:", 1)] {
        let q = SqlQueue::connect_with(&url, SqlOptions::default().table(&table))
            .await
            .unwrap();
        assert_eq!(q.dialect(), queue_sql::Dialect::MySql);
        let id = q
            .enqueue(Job::new("k", serde_json::json!(1)))
            .await
            .unwrap();
        assert_eq!(
            q.get_job(id).await.unwrap().unwrap().state,
            JobState::Pending
        );
        q.drop_schema().await.unwrap();
    }
}

#[tokio::test]
async fn transactional_enqueue_follows_commit_and_rollback() {
    let pool = pool(4).await;
    let table = fresh_table();
    let q = queue_on(pool.clone(), &table).await;

    let mut tx = pool.begin().await.unwrap();
    let kept = q
        .enqueue_tx(&mut *tx, Job::new("k", serde_json::json!("kept")))
        .await
        .unwrap();
    assert!(
        q.get_job(kept).await.unwrap().is_none(),
        "invisible before commit"
    );
    tx.commit().await.unwrap();
    assert!(q.get_job(kept).await.unwrap().is_some());

    let mut tx = pool.begin().await.unwrap();
    let gone = q
        .enqueue_tx(&mut *tx, Job::new("k", serde_json::json!("gone")))
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    assert!(q.get_job(gone).await.unwrap().is_none());
    q.drop_schema().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_run_twice_and_concurrently() {
    let table = fresh_table();
    let opts = SqlOptions::default().table(&table);
    let url = mysql_url();
    let (a, b, c) = tokio::join!(
        SqlQueue::connect_with(&url, opts.clone()),
        SqlQueue::connect_with(&url, opts.clone()),
        SqlQueue::connect_with(&url, opts.clone()),
    );
    let (a, _b, _c) = (a.unwrap(), b.unwrap(), c.unwrap());
    let again = SqlQueue::connect_with(&url, opts).await.unwrap();
    let versions: Vec<i32> =
        sqlx::query_scalar(&format!("SELECT version FROM `{table}_migrations`"))
            .fetch_all(&pool(1).await)
            .await
            .unwrap();
    assert_eq!(versions, vec![1, 2, 3]);
    again
        .enqueue(Job::new("k", serde_json::json!(1)))
        .await
        .unwrap();
    a.drop_schema().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_claimers_take_each_job_once() {
    const JOBS: usize = 3_000;
    let table = fresh_table();
    let seed = queue_on(pool(2).await, &table).await;
    let jobs = (0..JOBS)
        .map(|i| Job::new("k", serde_json::json!(i)))
        .collect();
    seed.enqueue_batch(jobs).await.unwrap();

    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let q = queue_on(pool(4).await, &table).await;
        for _ in 0..4 {
            let q = q.clone();
            let seen = seen.clone();
            tasks.push(tokio::spawn(async move {
                loop {
                    let jobs = q.dequeue_batch(&["k"], 25).await.unwrap();
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
    seed.drop_schema().await.unwrap();
}

#[tokio::test]
async fn corrupt_rows_are_set_aside_and_do_not_block() {
    let pool = pool(4).await;
    let table = fresh_table();
    let q = queue_on(pool.clone(), &table).await;
    for (id, payload) in [
        ("not-a-ulid", "{}"),
        ("01BX5ZZKBKACTAV9WEVGEMMVRZ", "{not json"),
    ] {
        sqlx::query(&format!(
            "INSERT INTO `{table}` (id, kind, payload, max_attempts, state, priority,
                                    created_at, scheduled_at, unique_key, unique_lock)
             VALUES (?, 'k', ?, 3, 'pending', 10, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6), ?, ?)"
        ))
        .bind(id)
        .bind(payload)
        .bind(id)
        .bind(id)
        .execute(&pool)
        .await
        .unwrap();
    }
    let good = q
        .enqueue(Job::new("k", serde_json::json!("ok")))
        .await
        .unwrap();

    let claimed = q.dequeue_batch(&["k"], 1).await.unwrap();
    assert_eq!(claimed.iter().map(|j| j.id).collect::<Vec<_>>(), vec![good]);
    let rows: Vec<(String, String, Option<Vec<u8>>)> = sqlx::query_as(&format!(
        "SELECT state, last_error, unique_lock FROM `{table}` WHERE id <> ? ORDER BY id"
    ))
    .bind(good.to_string())
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(rows.len(), 2);
    for (state, err, lock) in rows {
        assert_eq!(state, "failed");
        assert!(err.contains("corrupt row"), "{err}");
        assert_eq!(
            lock, None,
            "a corrupt row set aside releases its unique key"
        );
    }
    q.drop_schema().await.unwrap();
}

/// A pool whose sessions run in another time zone than UTC.
async fn pool_in_zone(zone: &str) -> MySqlPool {
    let opts: MySqlConnectOptions = mysql_url().parse().unwrap();
    MySqlPoolOptions::new()
        .max_connections(2)
        .connect_with(opts.timezone(Some(zone.to_string())))
        .await
        .unwrap()
}

#[tokio::test]
async fn times_are_utc_whatever_the_session_time_zone() {
    let table = fresh_table();
    let east = queue_on(pool_in_zone("+09:00").await, &table).await;
    let west = queue_on(pool_in_zone("-07:00").await, &table).await;
    let at = time::OffsetDateTime::now_utc() + Duration::from_secs(3600);
    let at = at
        .replace_nanosecond(at.nanosecond() / 1_000 * 1_000)
        .unwrap();
    let id = east
        .enqueue(Job::new("k", serde_json::json!(1)).run_at(at))
        .await
        .unwrap();
    let job = west.get_job(id).await.unwrap().unwrap();
    assert_eq!(
        job.scheduled_at, at,
        "stored and read back to the microsecond, in UTC"
    );
    let age = time::OffsetDateTime::now_utc() - job.created_at;
    assert!(
        age.abs() < time::Duration::minutes(5),
        "created_at is UTC: {age}"
    );
    // Not due for an hour, in either zone.
    assert!(west.dequeue_batch(&["k"], 1).await.unwrap().is_empty());
    assert!(east.dequeue_batch(&["k"], 1).await.unwrap().is_empty());
    assert!(west.run_now(id).await.unwrap());
    let claimed = east.dequeue_batch(&["k"], 1).await.unwrap();
    let lease = claimed[0].lease.unwrap();
    let left = lease.expires_at - time::OffsetDateTime::now_utc();
    assert!(
        left > time::Duration::ZERO && left < time::Duration::minutes(5),
        "{left}"
    );
    east.drop_schema().await.unwrap();
}

#[tokio::test]
async fn a_taken_explicit_id_is_refused_with_or_without_a_unique_key() {
    let table = fresh_table();
    let q = queue_on(pool(2).await, &table).await;
    let id = JobId::new();
    q.enqueue(Job::new("k", serde_json::json!(1)).id(id))
        .await
        .unwrap();
    let again = q.enqueue(Job::new("k", serde_json::json!(2)).id(id)).await;
    assert!(matches!(again, Err(QueueError::InvalidJob(_))), "{again:?}");
    let keyed = q
        .enqueue(Job::new("k", serde_json::json!(3)).id(id).unique("key-1"))
        .await;
    assert!(matches!(keyed, Err(QueueError::InvalidJob(_))), "{keyed:?}");
    q.drop_schema().await.unwrap();
}

#[tokio::test]
async fn big_batches_go_in_several_statements_atomically() {
    let table = fresh_table();
    let q = queue_on(pool(2).await, &table).await;
    let blob = "x".repeat(10_000);
    let jobs: Vec<NewJob> = (0..2_500)
        .map(|i| Job::new("k", serde_json::json!({"i": i, "blob": blob})))
        .collect();
    let ids = q.enqueue_batch(jobs).await.unwrap();
    assert_eq!(ids.len(), 2_500);
    assert_eq!(q.stats().await.unwrap().pending, 2_500);
    // A bad job late in the batch leaves no job of it behind.
    let taken = ids[0];
    let mut jobs: Vec<NewJob> = (0..1_500)
        .map(|i| Job::new("k", serde_json::json!({"i": i, "blob": blob})))
        .collect();
    jobs.push(Job::new("k", serde_json::json!(0)).id(taken));
    assert!(q.enqueue_batch(jobs).await.is_err());
    assert_eq!(q.stats().await.unwrap().pending, 2_500);
    q.drop_schema().await.unwrap();
}

#[tokio::test]
async fn a_due_time_in_the_past_or_far_future_reads_back() {
    let table = fresh_table();
    let q = queue_on(pool(2).await, &table).await;
    let day = |y, m, d| time::Date::from_calendar_date(y, m, d).unwrap();
    for at in [
        day(1, time::Month::January, 1).midnight().assume_utc(),
        day(9999, time::Month::December, 31)
            .with_hms_micro(23, 59, 59, 999_999)
            .unwrap()
            .assume_utc(),
    ] {
        let id = q
            .enqueue(Job::new("k", serde_json::json!(1)).run_at(at))
            .await
            .unwrap();
        assert_eq!(q.get_job(id).await.unwrap().unwrap().scheduled_at, at);
    }
    q.drop_schema().await.unwrap();
}

/// A MariaDB restart in the middle of a run, on a throw-away server of this test's own
/// (the shared server is never restarted: other tests use it): the worker rides it out,
/// and no job is lost or run twice at once.
#[test]
fn jobs_survive_a_server_restart() {
    // Started outside the runtime: starting and stopping a server blocks.
    let Some(server) =
        queue_servers::MariaDbServer::start_unless_skipped().unwrap_or_else(|e| panic!("{e}"))
    else {
        return;
    };
    let server = Arc::new(server);
    let url = server.url();
    let (stop, start) = (server.clone(), server.clone());
    queue_testkit::restart::block_on(async move {
        // A short lease, so leases run out while the server is down.
        let opts = SqlOptions::default()
            .table("restart_jobs")
            .lease_timeout(Duration::from_secs(1));
        let worker_queue = SqlQueue::connect_with(&url, opts.clone()).await.unwrap();
        let producer = SqlQueue::connect_with(&url, opts).await.unwrap();
        queue_testkit::restart::jobs_survive_a_restart(
            Arc::new(worker_queue),
            Arc::new(producer),
            move || stop.stop(),
            move || start.start_again(),
        )
        .await;
    });
}

/// Four pools of four claimers each claim and ack 300 jobs of a kind limited to 3 at once
/// and 1 per key over 30 keys: counted between claim and ack, never more than 3 run at
/// once nor 2 of a key, and every job runs exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_hold_across_many_pools_and_claimers() {
    const JOBS: usize = 300;
    #[derive(Default)]
    struct Seen {
        running: usize,
        per_key: std::collections::HashMap<String, usize>,
        done: HashSet<JobId>,
        worst: usize,
    }
    let table = fresh_table();
    let seed = queue_on(pool(2).await, &table).await;
    seed.set_limit("k", queue_core::Limit::concurrency(3).with_per_key(1))
        .await
        .unwrap();
    let jobs = (0..JOBS)
        .map(|i| Job::new("k", serde_json::json!(i)).concurrency_key(format!("key-{}", i % 30)))
        .collect();
    seed.enqueue_batch(jobs).await.unwrap();

    let seen = Arc::new(Mutex::new(Seen::default()));
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let q = queue_on(pool(4).await, &table).await;
        for _ in 0..4 {
            let q = q.clone();
            let seen = seen.clone();
            tasks.push(tokio::spawn(async move {
                let deadline = std::time::Instant::now() + Duration::from_secs(120);
                while seen.lock().unwrap().done.len() < JOBS {
                    assert!(std::time::Instant::now() < deadline, "jobs left undone");
                    let jobs = q.dequeue_batch(&["k"], 4).await.unwrap();
                    if jobs.is_empty() {
                        tokio::time::sleep(Duration::from_millis(2)).await;
                        continue;
                    }
                    {
                        let mut s = seen.lock().unwrap();
                        s.running += jobs.len();
                        s.worst = s.worst.max(s.running);
                        assert!(s.running <= 3, "{} running at once, limit 3", s.running);
                        for j in &jobs {
                            let key = j.concurrency_key.clone().unwrap();
                            let n = s.per_key.entry(key.clone()).or_default();
                            *n += 1;
                            assert!(*n <= 1, "{n} running for {key}, limit 1");
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    {
                        // Uncounted before the ack: the count never runs behind the queue.
                        let mut s = seen.lock().unwrap();
                        s.running -= jobs.len();
                        for j in &jobs {
                            *s.per_key
                                .get_mut(j.concurrency_key.as_ref().unwrap())
                                .unwrap() -= 1;
                            assert!(s.done.insert(j.id), "job {} ran twice", j.id);
                        }
                    }
                    let leases: Vec<_> = jobs.iter().map(|j| j.lease.unwrap()).collect();
                    for r in q.ack_batch(&leases).await.unwrap() {
                        r.unwrap();
                    }
                }
            }));
        }
    }
    for t in tasks {
        t.await.unwrap();
    }
    {
        let s = seen.lock().unwrap();
        assert_eq!(s.done.len(), JOBS, "every job ran once");
        assert!(s.worst >= 1);
    }
    assert_eq!(seed.stats().await.unwrap().completed, JOBS as u64);
    seed.drop_schema().await.unwrap();
}

/// A queue on a fresh table with kind "k" limited by `limit`, and its pool.
async fn limited_queue(limit: queue_core::Limit) -> (SqlQueue, MySqlPool, String) {
    let pool = pool(2).await;
    let table = fresh_table();
    let q = queue_on(pool.clone(), &table).await;
    q.set_limit("k", limit).await.unwrap();
    (q, pool, table)
}

/// Enqueues one job of kind "k" per key, in that order (so in that claim order).
async fn enqueue_keyed(q: &SqlQueue, keys: &[String]) -> Vec<JobId> {
    let mut ids = Vec::new();
    for key in keys {
        ids.push(
            q.enqueue(Job::new("k", serde_json::json!(key)).concurrency_key(key.clone()))
                .await
                .unwrap(),
        );
    }
    ids
}

fn keys_of(jobs: &[Job]) -> Vec<String> {
    jobs.iter()
        .map(|j| j.concurrency_key.clone().unwrap())
        .collect()
}

/// More due jobs than a window reads, their keys in reverse byte order: a claim takes the
/// first in claim order from the window, not the first keys in byte order.
#[tokio::test]
async fn limited_claim_takes_a_full_window_in_claim_order() {
    let (q, _, _) = limited_queue(queue_core::Limit::per_key(1)).await;
    let keys: Vec<String> = (0..70).rev().map(|i| format!("key-{i:03}")).collect();
    enqueue_keyed(&q, &keys).await;
    let jobs = q.dequeue_batch(&["k"], 2).await.unwrap();
    assert_eq!(keys_of(&jobs), ["key-069", "key-068"]);
    q.drop_schema().await.unwrap();
}

/// Fewer due jobs than a window reads: the claim takes those whose keys have room, even
/// fewer than it asked for.
#[tokio::test]
async fn limited_claim_takes_a_short_window_whole() {
    let (q, _, _) = limited_queue(queue_core::Limit::per_key(1)).await;
    enqueue_keyed(&q, &["a".to_string()]).await;
    assert_eq!(keys_of(&q.dequeue_batch(&["k"], 1).await.unwrap()), ["a"]);
    enqueue_keyed(&q, &["a".to_string(), "z".to_string(), "y".to_string()]).await;
    let jobs = q.dequeue_batch(&["k"], 3).await.unwrap();
    assert_eq!(keys_of(&jobs), ["z", "y"]);
    q.drop_schema().await.unwrap();
}

/// A window full of jobs of a key at its limit, longer than a page past it: the claim
/// reads on through the kind's due jobs in claim order and takes the job of another key
/// behind them.
#[tokio::test]
async fn limited_claim_reads_on_past_a_crowded_window() {
    let (q, _, _) = limited_queue(queue_core::Limit::per_key(1)).await;
    enqueue_busy(&q, 6_000).await;
    assert_eq!(
        keys_of(&q.dequeue_batch(&["k"], 1).await.unwrap()),
        ["busy"]
    );
    enqueue_keyed(&q, &["other".to_string()]).await;
    let jobs = q.dequeue_batch(&["k"], 1).await.unwrap();
    assert_eq!(keys_of(&jobs), ["other"]);
    q.drop_schema().await.unwrap();
}

/// A claim looks at 20,000 due jobs of a kind at most: a job behind more jobs of keys at
/// their limit waits until their backlog shrinks.
#[tokio::test]
async fn limited_claim_looks_at_twenty_thousand_jobs_at_most() {
    let (q, _, _) = limited_queue(queue_core::Limit::per_key(1)).await;
    let busy = enqueue_busy(&q, 20_001).await;
    assert_eq!(
        keys_of(&q.dequeue_batch(&["k"], 1).await.unwrap()),
        ["busy"]
    );
    // 20,000 pending jobs of the busy key, then this one.
    enqueue_keyed(&q, &["other".to_string()]).await;
    assert!(q.dequeue_batch(&["k"], 1).await.unwrap().is_empty());
    q.cancel(busy[busy.len() - 1]).await.unwrap();
    let jobs = q.dequeue_batch(&["k"], 1).await.unwrap();
    assert_eq!(keys_of(&jobs), ["other"]);
    q.drop_schema().await.unwrap();
}

/// Enqueues `n` jobs of kind "k" with the key "busy", in one batch.
async fn enqueue_busy(q: &SqlQueue, n: usize) -> Vec<JobId> {
    let jobs = (0..n)
        .map(|i| Job::new("k", serde_json::json!(i)).concurrency_key("busy"))
        .collect();
    q.enqueue_batch(jobs).await.unwrap()
}

/// A table migrated by the release that had the keyed index (version 2) loses the index,
/// its generated columns and the key walk's rotation (migration 3) and keeps its jobs;
/// migration 3 runs again on a table that has lost them already, as after a start that
/// died half way through it.
#[tokio::test]
async fn a_table_with_the_keyed_index_migrates_forward() {
    let (q, pool, table) = limited_queue(queue_core::Limit::per_key(1)).await;
    enqueue_keyed(&q, &["a".to_string(), "a".to_string(), "b".to_string()]).await;
    sqlx::raw_sql(&format!(
        "ALTER TABLE `{table}` \
             ADD COLUMN keyed_state VARCHAR(9) CHARACTER SET ascii \
                 AS (IF(concurrency_key IS NULL, NULL, state)) VIRTUAL, \
             ADD COLUMN keyed_due DATETIME(6) \
                 AS (IF(concurrency_key IS NULL, NULL, scheduled_at)) VIRTUAL, \
             ADD INDEX `{table}_keyed_idx` (kind, concurrency_key, keyed_state, keyed_due, id); \
         ALTER TABLE `{table}_limits` ADD COLUMN rotation VARBINARY(255) NULL; \
         DELETE FROM `{table}_migrations` WHERE version = 3"
    ))
    .execute(&pool)
    .await
    .unwrap();
    assert_eq!(keyed_leftovers(&pool, &table).await, 4);
    let q = queue_on(pool.clone(), &table).await;
    assert_eq!(keyed_leftovers(&pool, &table).await, 0);
    sqlx::query(&format!(
        "DELETE FROM `{table}_migrations` WHERE version = 3"
    ))
    .execute(&pool)
    .await
    .unwrap();
    let q2 = queue_on(pool.clone(), &table).await;
    assert_eq!(keyed_leftovers(&pool, &table).await, 0);
    let jobs = q.dequeue_batch(&["k"], 3).await.unwrap();
    assert_eq!(keys_of(&jobs), ["a", "b"]);
    drop(q2);
    q.drop_schema().await.unwrap();
}

/// Migration 2's keyed index, generated columns and rotation left in `table`.
async fn keyed_leftovers(pool: &MySqlPool, table: &str) -> i64 {
    let columns: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM information_schema.COLUMNS \
         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (?, ?) \
           AND COLUMN_NAME IN ('keyed_state', 'keyed_due', 'rotation')",
    )
    .bind(table)
    .bind(format!("{table}_limits"))
    .fetch_one(pool)
    .await
    .unwrap();
    let indexes: i64 = sqlx::query_scalar(
        "SELECT COUNT(DISTINCT INDEX_NAME) FROM information_schema.STATISTICS \
         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND INDEX_NAME = ?",
    )
    .bind(table)
    .bind(format!("{table}_keyed_idx"))
    .fetch_one(pool)
    .await
    .unwrap();
    columns + indexes
}

/// A key whose starts used up its rate is passed over in the window, though none of its
/// jobs runs.
#[tokio::test]
async fn limited_claim_counts_key_rates_in_the_window() {
    let limit = queue_core::Limit::rate_per_key(1, Duration::from_secs(3600));
    let (q, _, _) = limited_queue(limit).await;
    enqueue_keyed(&q, &["z".to_string()]).await;
    let first = q.dequeue_batch(&["k"], 1).await.unwrap();
    assert_eq!(keys_of(&first), ["z"]);
    q.ack(&first[0].lease.unwrap()).await.unwrap();
    enqueue_keyed(&q, &["z".to_string(), "y".to_string()]).await;
    let jobs = q.dequeue_batch(&["k"], 2).await.unwrap();
    assert_eq!(keys_of(&jobs), ["y"]);
    q.drop_schema().await.unwrap();
}

/// The window goes down the priorities from the highest pending one, which may hold no
/// job of the kind, and takes each priority's jobs in turn.
#[tokio::test]
async fn limited_claim_window_spans_priorities() {
    let (q, _, _) = limited_queue(queue_core::Limit::per_key(1)).await;
    q.enqueue(Job::new("other", serde_json::json!(0)).priority(9))
        .await
        .unwrap();
    for (key, priority) in [("low", 0), ("high", 5)] {
        q.enqueue(
            Job::new("k", serde_json::json!(key))
                .concurrency_key(key)
                .priority(priority),
        )
        .await
        .unwrap();
    }
    let jobs = q.dequeue_batch(&["k"], 2).await.unwrap();
    assert_eq!(keys_of(&jobs), ["high", "low"]);
    q.drop_schema().await.unwrap();
}
