//! The conformance suite and the SQL-specific behaviour, against Postgres.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use queue_core::{Browsable, Completion, Job, JobState, Queue, QueueError, RetryPolicy, Worker};
use queue_sql::{SqlOptions, SqlQueue};
use support::{fresh_table, pg_pool, pg_url, sweep_stale_tables, PgFactory};

queue_testkit::conformance!(PgFactory::default());

async fn queue_on(pool: sqlx::PgPool, table: &str) -> SqlQueue {
    SqlQueue::from_pg_pool(pool, SqlOptions::default().table(table))
        .await
        .unwrap()
}

#[tokio::test]
async fn stale_tables_are_swept() {
    let pool = pg_pool(2).await;
    sweep_stale_tables(&pool).await;
}

#[tokio::test]
async fn connect_picks_postgres_from_the_url() {
    let table = fresh_table();
    let q = SqlQueue::connect_with(&pg_url(), SqlOptions::default().table(&table))
        .await
        .unwrap();
    assert_eq!(q.dialect(), queue_sql::Dialect::Postgres);
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

#[tokio::test]
async fn transactional_enqueue_follows_commit_and_rollback() {
    let pool = pg_pool(4).await;
    let table = fresh_table();
    let q = queue_on(pool.clone(), &table).await;

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
    // Not visible to others before the commit.
    assert!(q.get_job(kept).await.unwrap().is_none());
    tx.commit().await.unwrap();
    assert_eq!(
        q.get_job(kept).await.unwrap().unwrap().state,
        JobState::Pending
    );
    assert_eq!(q.stats().await.unwrap().pending, 1);
    q.drop_schema().await.unwrap();
}

#[tokio::test]
async fn migrations_run_twice_and_concurrently() {
    let pool = pg_pool(10).await;
    let table = fresh_table();
    let opens = (0..6).map(|_| {
        let pool = pool.clone();
        let table = table.clone();
        tokio::spawn(async move { queue_on(pool, &table).await })
    });
    let mut queues = Vec::new();
    for h in opens {
        queues.push(h.await.unwrap());
    }
    // And once more, after they all finished.
    let again = queue_on(pool.clone(), &table).await;
    let versions: Vec<i32> = sqlx::query_scalar(&format!("SELECT version FROM {table}_migrations"))
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(versions, (1..=11).collect::<Vec<i32>>());
    let id = queues[0]
        .enqueue(Job::new("k", serde_json::json!(null)))
        .await
        .unwrap();
    assert!(again.get_job(id).await.unwrap().is_some());
    again.drop_schema().await.unwrap();
}

#[tokio::test]
async fn custom_tables_are_independent_and_unsafe_names_are_errors() {
    let pool = pg_pool(4).await;
    let (a, b) = (fresh_table(), fresh_table());
    let qa = queue_on(pool.clone(), &a).await;
    let qb = queue_on(pool.clone(), &b).await;
    qa.enqueue(Job::new("k", serde_json::json!(1)))
        .await
        .unwrap();
    assert_eq!(qa.stats().await.unwrap().pending, 1);
    assert_eq!(qb.stats().await.unwrap().pending, 0);
    assert!(qb.dequeue(&[]).await.unwrap().is_none());

    for bad in ["jobs; DROP TABLE x", "1abc", "", "a-b"] {
        let r = SqlQueue::from_pg_pool(pool.clone(), SqlOptions::default().table(bad)).await;
        assert!(matches!(r, Err(QueueError::InvalidConfig(_))), "{bad:?}");
    }
    qa.drop_schema().await.unwrap();
    qb.drop_schema().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_pools_claim_each_job_once() {
    const JOBS: usize = 3_000;
    let table = fresh_table();
    let seed = queue_on(pg_pool(2).await, &table).await;
    let jobs = (0..JOBS)
        .map(|i| Job::new("k", serde_json::json!(i)))
        .collect();
    seed.enqueue_batch(jobs).await.unwrap();

    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for _ in 0..3 {
        let q = queue_on(pg_pool(4).await, &table).await;
        for _ in 0..3 {
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
    let pool = pg_pool(4).await;
    let table = fresh_table();
    let q = queue_on(pool.clone(), &table).await;
    sqlx::query(&format!(
        "INSERT INTO {table} (id, kind, payload, max_attempts, state, priority)
         VALUES ('not-a-ulid', 'k', '{{}}', 3, 'pending', 10)"
    ))
    .execute(&pool)
    .await
    .unwrap();
    let good = q
        .enqueue(Job::new("k", serde_json::json!("ok")))
        .await
        .unwrap();

    let claimed = q.dequeue_batch(&["k"], 10).await.unwrap();
    assert_eq!(claimed.iter().map(|j| j.id).collect::<Vec<_>>(), vec![good]);
    let (state, err): (String, Option<String>) = sqlx::query_as(&format!(
        "SELECT state, last_error FROM {table} WHERE id = 'not-a-ulid'"
    ))
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(state, "failed");
    assert!(err.unwrap().contains("corrupt row"));
    q.drop_schema().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_survives_dropped_connections() {
    const JOBS: usize = 400;
    let table = fresh_table();
    // Tagged, so we cut only our own connections and not those of parallel tests.
    let opts: sqlx::postgres::PgConnectOptions = pg_url().parse().unwrap();
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(4)
        .connect_with(opts.application_name(&table))
        .await
        .unwrap();
    let q = Arc::new(
        SqlQueue::from_pg_pool(
            pool,
            SqlOptions::default()
                .table(&table)
                .lease_timeout(Duration::from_secs(2)),
        )
        .await
        .unwrap(),
    );
    let runs = Arc::new(Mutex::new(Vec::new()));
    let seen = runs.clone();
    let worker = Worker::new(q.clone())
        .handle("k", move |job: Job| {
            let seen = seen.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(2)).await;
                seen.lock().unwrap().push(job.id);
                Ok(())
            }
        })
        .concurrency(8)
        .poll_interval(Duration::from_millis(100))
        .start()
        .unwrap();

    let admin = pg_pool(1).await;
    for round in 0..4 {
        let jobs = (0..JOBS / 4).map(|i| Job::new("k", serde_json::json!([round, i])));
        q.enqueue_batch(jobs.collect()).await.unwrap();
        // Cut every connection of the queue's pool, its LISTEN connection included.
        sqlx::query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
        )
        .bind(&table)
        .execute(&admin)
        .await
        .unwrap();
        tokio::time::sleep(Duration::from_millis(150)).await;
    }

    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let s = q.stats().await;
        if let Ok(s) = s {
            if s.completed as usize == JOBS {
                break;
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "jobs did not all complete: {:?}",
            q.stats().await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    worker.shutdown(Duration::from_secs(5)).await;
    let runs = runs.lock().unwrap().clone();
    let unique: HashSet<_> = runs.iter().collect();
    assert_eq!(unique.len(), JOBS, "no job lost");
    q.drop_schema().await.unwrap();
}

#[tokio::test]
async fn reclaim_works_off_more_than_one_batch() {
    const JOBS: usize = 2_500; // more than one reclaim statement's bound
    let pool = pg_pool(4).await;
    let table = fresh_table();
    let q = queue_on(pool.clone(), &table).await;
    q.enqueue_batch(
        (0..JOBS)
            .map(|i| Job::new("k", serde_json::json!(i)))
            .collect(),
    )
    .await
    .unwrap();
    assert_eq!(q.dequeue_batch(&["k"], JOBS).await.unwrap().len(), JOBS);
    // Expire the leases on the database clock instead of waiting for them.
    sqlx::query(&format!(
        "UPDATE {table} SET lease_expires_at = now() - interval '1 second'"
    ))
    .execute(&pool)
    .await
    .unwrap();
    assert_eq!(q.reclaim().await.unwrap(), JOBS as u64);
    let stats = q.stats().await.unwrap();
    assert_eq!((stats.pending, stats.running), (JOBS as u64, 0));
    q.drop_schema().await.unwrap();
}

/// A statement of `sql/postgres/`, rendered for `table` as the queue renders it.
fn statement(text: &str, table: &str) -> String {
    text.replace("{table}", table)
}

/// Waits (bounded) until `cond` holds; panics with `what` otherwise.
async fn eventually<F, Fut>(what: &str, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !cond().await {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A failed job finished an hour ago on the database clock, so any retention prunes it.
async fn long_dead_job(q: &SqlQueue, pool: &sqlx::PgPool, table: &str) -> queue_core::JobId {
    let id = q
        .enqueue(Job::new("k", serde_json::json!(1)).max_attempts(1))
        .await
        .unwrap();
    let job = q.dequeue(&["k"]).await.unwrap().unwrap();
    q.discard(&job.lease.unwrap(), "dead").await.unwrap();
    sqlx::query(&format!(
        "UPDATE {table} SET finished_at = now() - interval '1 hour' WHERE id = $1"
    ))
    .bind(id.to_string())
    .execute(pool)
    .await
    .unwrap();
    id
}

/// Issue #10, item 2: prune picked its ids without locks, and its DELETE re-checked only
/// the id, so a replay committing in between lost the now-pending job. The race is laid
/// out by hand: the replay's update is held uncommitted while prune runs, and committed
/// once prune has either skipped the row or is waiting for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prune_never_deletes_a_job_replayed_meanwhile() {
    let pool = pg_pool(4).await;
    let table = fresh_table();
    let q = queue_on(pool.clone(), &table).await;
    let id = long_dead_job(&q, &pool, &table).await;

    let mut replay = pool.begin().await.unwrap();
    sqlx::query(&statement(
        include_str!("../sql/postgres/replay.sql"),
        &table,
    ))
    .bind(id.to_string())
    .execute(&mut *replay)
    .await
    .unwrap();

    let prune = {
        let (pool, sql) = (
            pool.clone(),
            statement(include_str!("../sql/postgres/prune.sql"), &table),
        );
        // Completed jobs kept an hour, failed ones not at all.
        tokio::spawn(async move {
            sqlx::query(&sql)
                .bind(3600.0_f64)
                .bind(Some(0.0_f64))
                .bind(100_i64)
                .execute(&pool)
                .await
                .unwrap()
                .rows_affected()
        })
    };
    let waiting = format!(
        "SELECT count(*) FROM pg_stat_activity
         WHERE wait_event_type = 'Lock' AND query LIKE '%DELETE FROM {table}%'"
    );
    eventually("prune to finish or wait for the replayed row", || async {
        prune.is_finished()
            || sqlx::query_scalar::<_, i64>(&waiting)
                .fetch_one(&pool)
                .await
                .unwrap()
                > 0
    })
    .await;
    replay.commit().await.unwrap();
    let pruned = prune.await.unwrap();

    let job = q.get_job(id).await.unwrap();
    assert_eq!(
        job.map(|j| j.state),
        Some(JobState::Pending),
        "the replayed job survives prune (prune deleted {pruned} rows)"
    );
    q.drop_schema().await.unwrap();
}

/// Writes a pending row at priority 10 that cannot be decoded (a negative max_attempts)
/// under a valid id, holding unique key `key` (without a window) when given.
async fn corrupt_row(pool: &sqlx::PgPool, table: &str, key: Option<&str>) -> queue_core::JobId {
    let id = queue_core::JobId::new();
    sqlx::query(&format!(
        "INSERT INTO {table} (id, kind, payload, max_attempts, state, priority, unique_key, unique_lock)
         VALUES ($1, 'k', '{{}}', -1, 'pending', 10, $2, $2)"
    ))
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
    let pool = pg_pool(4).await;
    let table = fresh_table();
    let q = queue_on(pool.clone(), &table).await;
    let bad = corrupt_row(&pool, &table, None).await;
    let good = q
        .enqueue(Job::new("k", serde_json::json!("ok")))
        .await
        .unwrap();

    let claimed = q.dequeue(&["k"]).await.unwrap().map(|j| j.id);
    assert_eq!(claimed, Some(good), "the good job behind the corrupt one");
    let (state, err): (String, Option<String>) = sqlx::query_as(&format!(
        "SELECT state, last_error FROM {table} WHERE id = $1"
    ))
    .bind(bad.to_string())
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(state, "failed");
    assert!(err.unwrap().contains("max_attempts"));
    q.drop_schema().await.unwrap();
}

/// Issue #10, item 8: setting a corrupt row aside failed it but kept its unique key (one
/// without a window, held until the job ends) held for good.
#[tokio::test]
async fn a_corrupt_row_set_aside_releases_its_unique_key() {
    let pool = pg_pool(4).await;
    let table = fresh_table();
    let q = queue_on(pool.clone(), &table).await;
    let bad = corrupt_row(&pool, &table, Some("once")).await;
    assert!(q.dequeue_batch(&["k"], 10).await.unwrap().is_empty());
    let state: String = sqlx::query_scalar(&format!("SELECT state FROM {table} WHERE id = $1"))
        .bind(bad.to_string())
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(state, "failed");

    let next = q
        .enqueue(Job::new("k", serde_json::json!(1)).unique("once"))
        .await
        .unwrap();
    assert_ne!(next, bad, "the failed corrupt row no longer holds the key");
    q.drop_schema().await.unwrap();
}

/// Issue #10, items 3 and 7: an uncapped backoff late in a retry-forever job's life used
/// to reach 10^12 seconds, a due time around year 33,700 that Postgres stores but that no
/// longer reads back as a time. Every wait now stops at `MAX_DELAY`.
#[tokio::test]
async fn uncapped_backoff_stays_a_readable_time() {
    let pool = pg_pool(4).await;
    let table = fresh_table();
    let retry = queue_core::RetryPolicy::exponential(Duration::from_secs(1), Duration::ZERO);
    let q = SqlQueue::from_pg_pool(
        pool.clone(),
        SqlOptions::default().table(&table).retry(retry),
    )
    .await
    .unwrap();
    let id = q
        .enqueue(Job::new("k", serde_json::json!(1)).max_attempts(u32::MAX))
        .await
        .unwrap();
    sqlx::query(&format!("UPDATE {table} SET attempts = 60 WHERE id = $1"))
        .bind(id.to_string())
        .execute(&pool)
        .await
        .unwrap();
    let job = q.dequeue(&[]).await.unwrap().unwrap();
    q.nack(&job.lease.unwrap(), "boom").await.unwrap();
    let job = q.get_job(id).await.unwrap().unwrap();
    assert_eq!(job.state, JobState::Pending);
    let years = (job.scheduled_at - time::OffsetDateTime::now_utc()).whole_days() / 365;
    assert!((500..=1_003).contains(&years), "{years} years");
    q.drop_schema().await.unwrap();
}

/// Issue #10, item 9, the race: an enqueue not yet committed takes the key the replay
/// wants back. The replay waits on the unique index, then goes on without the key; the
/// key stays with the enqueued job.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_leaves_the_key_to_an_enqueue_that_wins_it() {
    use queue_core::Replayable;
    let pool = pg_pool(4).await;
    let table = fresh_table();
    let q = queue_on(pool.clone(), &table).await;
    let dead = q
        .enqueue(Job::new("k", serde_json::json!(1)).unique("key"))
        .await
        .unwrap();
    let job = q.dequeue(&["k"]).await.unwrap().unwrap();
    q.discard(&job.lease.unwrap(), "dead").await.unwrap();

    let mut tx = pool.begin().await.unwrap();
    let winner = q
        .enqueue_tx(&mut *tx, Job::new("k", serde_json::json!(2)).unique("key"))
        .await
        .unwrap();
    let replay = {
        let q = q.clone();
        tokio::spawn(async move { q.replay(dead).await })
    };
    let waiting = format!(
        "SELECT count(*) FROM pg_stat_activity
         WHERE wait_event_type = 'Lock' AND query LIKE '%UPDATE {table}%SET unique_lock%'"
    );
    eventually("the replay to wait for the enqueue's key", || async {
        replay.is_finished()
            || sqlx::query_scalar::<_, i64>(&waiting)
                .fetch_one(&pool)
                .await
                .unwrap()
                > 0
    })
    .await;
    tx.commit().await.unwrap();
    assert!(replay.await.unwrap().unwrap(), "the replay happens");
    assert_eq!(
        q.get_job(dead).await.unwrap().unwrap().state,
        JobState::Pending
    );
    let dup = q
        .enqueue(Job::new("k", serde_json::json!(3)).unique("key"))
        .await
        .unwrap();
    assert_eq!(dup, winner, "the key stays with the job that took it first");
    q.drop_schema().await.unwrap();
}

/// Issue #10, item 9: replay takes back a key whose last holder's window has lapsed,
/// though that holder still marks the key until someone frees it.
#[tokio::test]
async fn replay_retakes_a_key_whose_holder_window_lapsed() {
    use queue_core::Replayable;
    let table = fresh_table();
    let q = queue_on(pg_pool(4).await, &table).await;
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
    q.drop_schema().await.unwrap();
}

/// Issue #10, item 2 (audit of fail_corrupt): setting a corrupt row aside acts on the
/// claim that met it, found again by its token. A set-aside arriving after the row was
/// claimed again (its lease ran out, or an admin repaired and replayed it) leaves the
/// newer claim alone.
#[tokio::test]
async fn a_late_set_aside_leaves_a_newer_claim_alone() {
    let pool = pg_pool(4).await;
    let table = fresh_table();
    let q = queue_on(pool.clone(), &table).await;
    let id = queue_core::JobId::new().to_string();
    sqlx::query(&format!(
        "INSERT INTO {table} (id, kind, payload, max_attempts, state, attempts, claim_token,
                              lease_expires_at)
         VALUES ($1, 'k', '{{}}', 3, 'running', 2, 2, now() + interval '1 minute')"
    ))
    .bind(&id)
    .execute(&pool)
    .await
    .unwrap();
    let set_aside = |token: i64| {
        let (pool, id) = (pool.clone(), id.clone());
        let sql = statement(include_str!("../sql/postgres/fail_corrupt.sql"), &table);
        async move {
            sqlx::query(&sql)
                .bind(id)
                .bind(token)
                .bind("corrupt row: test")
                .execute(&pool)
                .await
                .unwrap()
                .rows_affected()
        }
    };
    assert_eq!(set_aside(1).await, 0, "the first claim's token is stale");
    let state: String = sqlx::query_scalar(&format!("SELECT state FROM {table} WHERE id = $1"))
        .bind(&id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(state, "running");
    assert_eq!(set_aside(2).await, 1);
    q.drop_schema().await.unwrap();
}

/// Issue #10, item 2 (audit of reclaim): reclaim picks with FOR UPDATE SKIP LOCKED, so a
/// lease being renewed by a heartbeat not yet committed is skipped, not reclaimed under
/// the worker (a committed renewal is seen by the lock's re-check).
#[tokio::test]
async fn reclaim_skips_a_lease_being_renewed() {
    let pool = pg_pool(4).await;
    let table = fresh_table();
    let q = queue_on(pool.clone(), &table).await;
    q.enqueue(Job::new("k", serde_json::json!(1)))
        .await
        .unwrap();
    let lease = q.dequeue(&["k"]).await.unwrap().unwrap().lease.unwrap();
    sqlx::query(&format!(
        "UPDATE {table} SET lease_expires_at = now() - interval '1 second'"
    ))
    .execute(&pool)
    .await
    .unwrap();

    let mut beat = pool.begin().await.unwrap();
    let renewed: Vec<(String, i64)> = sqlx::query_as(&statement(
        include_str!("../sql/postgres/heartbeat.sql"),
        &table,
    ))
    .bind(vec![lease.id.to_string()])
    .bind(vec![lease.token.0])
    .bind(60.0_f64)
    .fetch_all(&mut *beat)
    .await
    .unwrap();
    assert_eq!(renewed.len(), 1);
    assert_eq!(q.reclaim().await.unwrap(), 0, "the locked row is skipped");
    beat.commit().await.unwrap();
    assert_eq!(q.reclaim().await.unwrap(), 0, "the renewed lease holds");
    q.ack(&lease).await.unwrap();
    q.drop_schema().await.unwrap();
}

/// Issue #10, item 7 (leases): a lease as long as `Duration::MAX`, from the options or
/// set later, is capped at `MAX_DELAY` like any wait, so the claimed job's lease is still
/// a time: it used to overflow the stored deadline, and the job was set aside as corrupt.
#[tokio::test]
async fn an_endless_lease_is_capped_not_corrupt() {
    let table = fresh_table();
    let opts = SqlOptions::default()
        .table(&table)
        .lease_timeout(Duration::MAX);
    let q = SqlQueue::from_pg_pool(pg_pool(4).await, opts)
        .await
        .unwrap();
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
    q.drop_schema().await.unwrap();
}

/// A due time past year 9999 (which the old uncapped backoff wrote) made the driver panic
/// while decoding the row; it now reads as a corrupt row: an error for `get_job`, skipped
/// by listings, still counted.
#[tokio::test]
async fn a_time_past_year_9999_reads_as_corrupt_not_a_panic() {
    let pool = pg_pool(4).await;
    let table = fresh_table();
    let q = queue_on(pool.clone(), &table).await;
    let id = q
        .enqueue(Job::new("k", serde_json::json!(1)))
        .await
        .unwrap();
    sqlx::query(&format!(
        "UPDATE {table} SET scheduled_at = '20000-01-01 00:00:00+00' WHERE id = $1"
    ))
    .bind(id.to_string())
    .execute(&pool)
    .await
    .unwrap();
    let read = tokio::spawn({
        let q = q.clone();
        async move { q.get_job(id).await }
    })
    .await
    .expect("get_job must not panic");
    assert!(matches!(read, Err(QueueError::Corrupt { .. })), "{read:?}");
    assert!(q.list_jobs(None, 0).await.unwrap().is_empty());
    assert_eq!(q.stats().await.unwrap().pending, 1);
    q.drop_schema().await.unwrap();
}

// Connections, errors and names (issue #10, items 4, 5, 6, 10 and 15).

/// A Postgres URL that carries a password; trust auth ignores it, so it connects.
fn url_with_password(password: &str) -> String {
    let url = pg_url();
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.split_once('@') {
            Some((user, host)) => {
                let user = user.split(':').next().unwrap_or(user);
                format!("{scheme}://{user}:{password}@{host}")
            }
            None => format!("{scheme}://postgres:{password}@{rest}"),
        },
        None => url,
    }
}

#[tokio::test]
async fn refused_connection_fails_at_once_naming_the_server_without_the_password() {
    let url = "postgres://postgres:s3cret@127.0.0.1:1/test";
    let r = tokio::time::timeout(Duration::from_secs(10), SqlQueue::connect(url))
        .await
        .expect("connecting to a closed port must fail at once, not wait out the pool");
    let e = r.expect_err("nothing listens on port 1");
    let (shown, debug) = (queue_core::ErrorChain(&e).to_string(), format!("{e:?}"));
    assert!(shown.contains("127.0.0.1:1"), "{shown}");
    assert!(shown.to_lowercase().contains("refused"), "{shown}");
    assert!(
        !shown.contains("s3cret") && !debug.contains("s3cret"),
        "{shown} / {debug}"
    );
}

#[tokio::test]
async fn queue_and_options_debug_hide_the_password() {
    let table = fresh_table();
    let opts = SqlOptions::default().table(&table);
    let q = SqlQueue::connect_with(&url_with_password("s3cret"), opts.clone())
        .await
        .unwrap();
    let shown = format!("{q:?} {opts:?}");
    assert!(!shown.contains("s3cret"), "{shown}");
    assert!(shown.contains(&table), "{shown}");
    q.drop_schema().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listening_queues_leave_the_pool_to_enqueue_and_claim() {
    let url = pg_url();
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(Duration::from_secs(2))
        .connect(&url)
        .await
        .unwrap();
    let (ta, tb) = (fresh_table(), fresh_table());
    let qa = queue_on(pool.clone(), &ta).await;
    let qb = queue_on(pool.clone(), &tb).await;
    for q in [&qa, &qb] {
        let id = q
            .enqueue(Job::new("k", serde_json::json!(1)))
            .await
            .expect("enqueue with both queues listening");
        let job = q.dequeue(&[]).await.expect("claim").expect("a job");
        assert_eq!(job.id, id);
        q.ack(&job.lease().unwrap()).await.unwrap();
    }
    // Both queues are still woken by inserts from elsewhere.
    let mut woken = qb.subscribe();
    woken.mark_seen();
    let other = queue_on(pg_pool(1).await, &tb).await;
    other
        .enqueue(Job::new("k", serde_json::json!(2)))
        .await
        .unwrap();
    assert!(
        woken.wait(Duration::from_secs(10)).await,
        "a NOTIFY from another pool wakes the queue"
    );
    other.drop_schema().await.ok();
    qa.drop_schema().await.unwrap();
    qb.drop_schema().await.unwrap();
}

#[tokio::test]
async fn nul_in_an_error_message_is_stored_replaced() {
    let table = fresh_table();
    let opts = SqlOptions::default()
        .table(&table)
        .retry(RetryPolicy::immediate());
    let q = SqlQueue::from_pg_pool(pg_pool(2).await, opts)
        .await
        .unwrap();
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
    q.drop_schema().await.unwrap();
}

#[tokio::test]
async fn mixed_case_and_reserved_table_names_are_rejected() {
    let pool = pg_pool(2).await;
    for bad in ["BillingJobs", "Jobs2", "user", "order", "select"] {
        let r = SqlQueue::from_pg_pool(pool.clone(), SqlOptions::default().table(bad)).await;
        match r {
            Err(QueueError::InvalidConfig(msg)) => assert!(msg.contains(bad), "{msg}"),
            other => panic!("{bad:?} must be rejected, got {:?}", other.err()),
        }
    }
}

/// The backends of `app` whose last statement was a LISTEN.
async fn listen_backends(admin: &sqlx::PgPool, app: &str) -> Vec<i32> {
    sqlx::query_scalar(
        "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN%'",
    )
    .bind(app)
    .fetch_all(admin)
    .await
    .unwrap()
}

/// The backends of `app` whose last statement was a LISTEN or an UNLISTEN: the listener
/// connection, also after its last queue went.
async fn listener_backends(admin: &sqlx::PgPool, app: &str) -> Vec<i32> {
    sqlx::query_scalar(
        "SELECT pid FROM pg_stat_activity WHERE application_name = $1
           AND (query LIKE 'LISTEN%' OR query LIKE 'UNLISTEN%')",
    )
    .bind(app)
    .fetch_all(admin)
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queues_of_one_pool_share_one_listen_connection_that_reconnects() {
    let (ta, tb) = (fresh_table(), fresh_table());
    // Tagged, so we count and cut only our own connections.
    let opts: sqlx::postgres::PgConnectOptions = pg_url().parse().unwrap();
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect_with(opts.application_name(&ta))
        .await
        .unwrap();
    let qa = queue_on(pool.clone(), &ta).await;
    let qb = queue_on(pool.clone(), &tb).await;
    let admin = pg_pool(1).await;
    let before = listen_backends(&admin, &ta).await;
    assert_eq!(before.len(), 1, "one LISTEN connection for both queues");

    sqlx::query("SELECT pg_terminate_backend($1)")
        .bind(before[0])
        .execute(&admin)
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let now = listen_backends(&admin, &ta).await;
        if now.len() == 1 && now != before {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the LISTEN connection was not re-opened: {now:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Let the task settle after re-subscribing, then expect a real NOTIFY.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut woken_b = qb.subscribe();
    woken_b.mark_seen();
    let other = queue_on(pg_pool(1).await, &tb).await;
    other
        .enqueue(Job::new("k", serde_json::json!(1)))
        .await
        .unwrap();
    assert!(
        woken_b.wait(Duration::from_secs(10)).await,
        "a NOTIFY after the reconnect wakes the queue"
    );
    qa.drop_schema().await.unwrap();
    qb.drop_schema().await.unwrap();
    other.drop_schema().await.ok();
    // The last queue of the pool gone, its LISTEN connection closes (it once stayed open,
    // idle after its UNLISTEN, for the life of the process: one per pool dropped).
    drop((qa, qb));
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !listener_backends(&admin, &ta).await.is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the LISTEN connection outlived its queues"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_server_that_never_answers_fails_within_the_connect_timeout() {
    // Accepts connections and never says a word.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = silent.local_addr().unwrap().port();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            open.push(socket);
        }
    });
    let url = format!("postgres://postgres:s3cret@127.0.0.1:{port}/test");
    let opts = SqlOptions::default().connect_timeout(Duration::from_millis(300));
    let r = tokio::time::timeout(Duration::from_secs(10), SqlQueue::connect_with(&url, opts))
        .await
        .expect("the connect timeout bounds the wait");
    let e = r.expect_err("nothing answers");
    let shown = queue_core::ErrorChain(&e).to_string();
    assert!(shown.contains(&format!("127.0.0.1:{port}")), "{shown}");
    assert!(shown.contains("no answer"), "{shown}");
    assert!(
        e.is_transient(),
        "an unreachable server may come back: {e:?}"
    );
    assert!(!format!("{shown} {e:?}").contains("s3cret"));
    held.abort();
}

/// Claims under a backlog resume after the last job taken instead of walking the claim
/// index from its head; what that can miss must still be found: a job put before the
/// resume point by another process within a second, a higher-priority job at once.
#[tokio::test]
async fn resumed_claims_still_find_jobs_before_their_start() {
    let table = fresh_table();
    let here = queue_on(pg_pool(4).await, &table).await;
    let elsewhere = queue_on(pg_pool(4).await, &table).await;
    let mut ids = Vec::new();
    for i in 0..6 {
        ids.push(
            here.enqueue(Job::new("k", serde_json::json!(i)))
                .await
                .unwrap(),
        );
    }
    let first = here.dequeue_batch(&["k"], 3).await.unwrap();
    assert_eq!(first.iter().map(|j| j.id).collect::<Vec<_>>(), ids[..3]);

    // Another process enqueues a job due an hour ago: behind this process's resume point,
    // so the next claim, resuming, does not see it yet...
    let an_hour_ago = time::OffsetDateTime::now_utc() - time::Duration::HOUR;
    let late = elsewhere
        .enqueue(Job::new("k", serde_json::json!("late")).run_at(an_hour_ago))
        .await
        .unwrap();
    let next = here.dequeue_batch(&["k"], 1).await.unwrap();
    assert_eq!(next[0].id, ids[3]);
    // ...but within a second a claim starts from the head again and finds it.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let next = here.dequeue_batch(&["k"], 1).await.unwrap();
    assert_eq!(next[0].id, late);

    // A higher priority is always looked for from its head.
    let urgent = elsewhere
        .enqueue(Job::new("k", serde_json::json!("urgent")).priority(9))
        .await
        .unwrap();
    let next = here.dequeue_batch(&["k"], 1).await.unwrap();
    assert_eq!(next[0].id, urgent);
    here.drop_schema().await.unwrap();
}

/// A claim reads one priority at a time and stops at the first job not yet due, so jobs
/// scheduled for later cost it nothing: counted in buffers, not timed.
#[tokio::test]
async fn a_claim_does_not_read_the_jobs_scheduled_for_later() {
    let pool = pg_pool(4).await;
    let table = fresh_table();
    let q = queue_on(pool.clone(), &table).await;
    let later: Vec<_> = (0..50_000)
        .map(|i| Job::new("k", serde_json::json!(i)).delay(Duration::from_secs(3_600)))
        .collect();
    q.enqueue_batch(later).await.unwrap();
    q.enqueue(Job::new("k", serde_json::json!("now")))
        .await
        .unwrap();
    q.enqueue(Job::new("k", serde_json::json!("urgent")).priority(3))
        .await
        .unwrap();
    // One connection, warmed up by a claim of a kind there is none of: planning reads
    // the catalogs, which is not the claim's cost.
    let mut conn = pool.acquire().await.unwrap();
    sqlx::query(&format!(
        "SELECT * FROM {table}_claim('{{none}}', 10, 30, NULL, NULL, NULL)"
    ))
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    let plan: serde_json::Value = sqlx::query_scalar(&format!(
        "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) \
         SELECT * FROM {table}_claim('{{}}', 10, 30, NULL, NULL, NULL)"
    ))
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    drop(conn);
    let top = &plan[0]["Plan"];
    assert_eq!(top["Actual Rows"], 2, "{plan}");
    let blocks =
        top["Shared Hit Blocks"].as_u64().unwrap() + top["Shared Read Blocks"].as_u64().unwrap();
    // Reading past the 50,000 later jobs alone takes some 400 index pages; the claim of
    // two jobs, its probes and its update take about 60.
    assert!(blocks < 150, "the claim read {blocks} blocks: {plan}");
    q.drop_schema().await.unwrap();
}

/// A queue that keeps no completed jobs deletes them as they are acked, except a job
/// whose unique key is held for a window past its end: that one stays, holding its key.
#[tokio::test]
async fn acks_delete_when_completed_jobs_are_not_kept() {
    let pool = pg_pool(4).await;
    let table = fresh_table();
    let opts = SqlOptions::default()
        .table(&table)
        .keep_completed_for(Duration::ZERO);
    let q = SqlQueue::from_pg_pool(pool, opts).await.unwrap();
    let plain = q
        .enqueue(Job::new("k", serde_json::json!(1)))
        .await
        .unwrap();
    let windowed = q
        .enqueue(Job::new("k", serde_json::json!(2)).unique_for("key", Duration::from_secs(3_600)))
        .await
        .unwrap();
    let claimed = q.dequeue_batch(&["k"], 2).await.unwrap();
    let leases: Vec<_> = claimed.iter().map(|j| j.lease.unwrap()).collect();
    let acked = q.ack_batch(&leases).await.unwrap();
    assert!(acked.iter().all(|r| r.is_ok()), "{acked:?}");
    // A second ack of the same leases finds nothing to complete.
    let again = q.ack_batch(&leases).await.unwrap();
    assert!(
        again
            .iter()
            .all(|r| matches!(r, Err(QueueError::LeaseLost(_)))),
        "{again:?}"
    );

    assert!(q.get_job(plain).await.unwrap().is_none());
    let kept = q.get_job(windowed).await.unwrap().unwrap();
    assert_eq!(kept.state, JobState::Completed);
    let dup = q
        .enqueue(Job::new("k", serde_json::json!(3)).unique_for("key", Duration::from_secs(3_600)))
        .await
        .unwrap();
    assert_eq!(dup, windowed, "the window still holds the key");
    q.drop_schema().await.unwrap();
}

/// An idle worker sleeps until the next delayed job is due, not until its next poll.
#[tokio::test]
async fn idle_workers_wake_when_a_delayed_job_falls_due() {
    let table = fresh_table();
    let q = Arc::new(queue_on(pg_pool(4).await, &table).await);
    assert_eq!(q.next_due(&["k"]).await, None);
    let ran = Arc::new(Mutex::new(Vec::new()));
    let seen = ran.clone();
    let worker = Worker::new(q.clone())
        .handle("k", move |job: Job| {
            let seen = seen.clone();
            async move {
                seen.lock().unwrap().push(job.id);
                Ok(())
            }
        })
        .poll_interval(Duration::from_secs(60))
        .start()
        .unwrap();
    // Enqueued while the worker idles; the insert's notification makes it ask again.
    let id = q
        .enqueue(Job::new("k", serde_json::json!(1)).delay(Duration::from_millis(300)))
        .await
        .unwrap();
    let due = q.next_due(&["k"]).await.expect("a delayed job");
    assert!(due <= Duration::from_millis(300), "{due:?}");
    assert_eq!(q.next_due(&["other"]).await, None);
    for _ in 0..200 {
        if !ran.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        *ran.lock().unwrap(),
        vec![id],
        "the worker slept through the due time"
    );
    worker.shutdown(Duration::from_secs(5)).await;
    q.drop_schema().await.unwrap();
}

/// The counts per state, counted row by row.
async fn counted(pool: &sqlx::PgPool, table: &str) -> queue_core::Stats {
    let rows: Vec<(String, i64)> = sqlx::query_as(&format!(
        "SELECT state, count(*) FROM {table} GROUP BY state"
    ))
    .fetch_all(pool)
    .await
    .unwrap();
    let mut stats = queue_core::Stats::default();
    for (state, n) in rows {
        *stats.get_mut(state.parse().unwrap()) = n as u64;
    }
    stats
}

/// Stats add up the changes the count triggers append: they must agree with the rows
/// after every kind of change (including SQL of the user's own, a fold by the
/// maintenance pass, and a table that held jobs before the counts existed).
#[tokio::test]
async fn stats_agree_with_the_rows_after_every_change() {
    let pool = pg_pool(4).await;
    let table = fresh_table();
    let opts = || {
        SqlOptions::default()
            .table(&table)
            .retry(RetryPolicy::immediate())
            .maintenance_every(Duration::from_millis(50))
    };
    let q = SqlQueue::from_pg_pool(pool.clone(), opts()).await.unwrap();
    let jobs = (0..30)
        .map(|i| Job::new("k", serde_json::json!(i)).max_attempts(2))
        .collect();
    let ids = q.enqueue_batch(jobs).await.unwrap();
    let claimed = q.dequeue_batch(&["k"], 12).await.unwrap();
    let leases: Vec<_> = claimed.iter().map(|j| j.lease.unwrap()).collect();
    q.ack_batch(&leases[..5]).await.unwrap();
    q.nack(&leases[5], "again").await.unwrap();
    q.discard(&leases[6], "no").await.unwrap();
    q.snooze(&leases[7], Duration::from_secs(60)).await.unwrap();
    q.heartbeat(&leases[8..]).await.unwrap();
    let pending = ids
        .iter()
        .filter(|id| !claimed.iter().any(|j| j.id == **id));
    for id in pending.take(3) {
        assert!(q.cancel(*id).await.unwrap().is_accepted());
    }
    sqlx::query(&format!(
        "DELETE FROM {table} WHERE id IN (SELECT id FROM {table} WHERE state = 'completed' LIMIT 2)"
    ))
    .execute(&pool)
    .await
    .unwrap();
    let expected = counted(&pool, &table).await;
    assert_eq!(expected.running, 4);
    assert_eq!(q.stats().await.unwrap(), expected);

    // The maintenance pass folds the appended changes into one row per state.
    let rows = format!("SELECT count(*) FROM {table}_counts");
    eventually("the counts folded", || async {
        let n: i64 = sqlx::query_scalar(&rows).fetch_one(&pool).await.unwrap();
        n <= 5
    })
    .await;
    assert_eq!(q.stats().await.unwrap(), expected);
    q.close().await.unwrap();

    // A table from before the counts: the migration counts its rows once.
    sqlx::raw_sql(&format!(
        "DELETE FROM {table}_counts; \
         INSERT INTO {table} (id, kind, payload, max_attempts, state) \
             VALUES ('0000000000000000000000000Z', 'k', '1', 1, 'failed'); \
         DELETE FROM {table}_migrations WHERE version = 5"
    ))
    .execute(&pool)
    .await
    .unwrap();
    let q = SqlQueue::from_pg_pool(pool.clone(), opts()).await.unwrap();
    let expected = counted(&pool, &table).await;
    assert_eq!(expected.failed, 2);
    assert_eq!(q.stats().await.unwrap(), expected);
    q.drop_schema().await.unwrap();
}

/// With `keep_completed_for` of zero the ack deletes the row, so a completion with an output
/// keeps nothing, and reports success like the ack.
#[tokio::test]
async fn outputs_are_not_kept_when_completed_jobs_are_not() {
    let table = fresh_table();
    let opts = SqlOptions::default()
        .table(&table)
        .keep_completed_for(Duration::ZERO);
    let q = SqlQueue::from_pg_pool(pg_pool(2).await, opts)
        .await
        .unwrap();
    let id = q
        .enqueue(Job::new("k", serde_json::json!(1)))
        .await
        .unwrap();
    let job = q.dequeue(&["k"]).await.unwrap().unwrap();
    let done = Completion::with_output(job.lease().unwrap(), &serde_json::json!([1])).unwrap();
    let results = q.complete_batch(&[done]).await.unwrap();
    assert!(results[0].is_ok(), "{results:?}");
    assert!(q.get_job(id).await.unwrap().is_none());
    assert_eq!(q.stats().await.unwrap().completed, 0);
    q.drop_schema().await.unwrap();
}

/// A table from before outputs gains the column (migration 6) and keeps its jobs; a
/// configured output limit replaces the default.
#[tokio::test]
async fn a_table_without_outputs_gains_the_column() {
    let pool = pg_pool(2).await;
    let table = fresh_table();
    let opts = || SqlOptions::default().table(&table).max_output_bytes(8);
    let q = SqlQueue::from_pg_pool(pool.clone(), opts()).await.unwrap();
    let ids = q
        .enqueue_batch(vec![
            Job::new("k", serde_json::json!(1)),
            Job::new("k", serde_json::json!(2)),
        ])
        .await
        .unwrap();
    q.close().await.unwrap();
    sqlx::raw_sql(&format!(
        "ALTER TABLE {table} DROP COLUMN output; \
         DELETE FROM {table}_migrations WHERE version = 6"
    ))
    .execute(&pool)
    .await
    .unwrap();

    let q = SqlQueue::from_pg_pool(pool.clone(), opts()).await.unwrap();
    queue_testkit::output::assert_output_limit_of_eight(&q, "k", [ids[0], ids[1]]).await;
    q.drop_schema().await.unwrap();
}

/// A cancel through one handle reaches the worker of another process by NOTIFY, long
/// before a heartbeat of the 30 s lease could.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_request_reaches_another_process_by_notify() {
    let factory = PgFactory::default();
    queue_testkit::cancel_running::announced_request_reaches_other_handle(&factory).await;
    queue_testkit::Factory::cleanup(&factory).await;
}

// Limits (issue 16): the contract in queue-core's `Limit` and `Queue::set_limit`.

/// How many claimed jobs run now, per kind and per concurrency key, as the claimers saw
/// them; and the most seen at once.
#[derive(Default)]
struct Running {
    kind: usize,
    keys: std::collections::HashMap<String, usize>,
    most_kind: usize,
    most_key: usize,
}

#[tokio::test]
async fn a_concurrency_key_round_trips() {
    let table = fresh_table();
    let q = queue_on(pg_pool(4).await, &table).await;
    let keyed = q
        .enqueue(Job::new("k", serde_json::json!(1)).concurrency_key("customer:42"))
        .await
        .unwrap();
    let plain = q
        .enqueue(Job::new("k", serde_json::json!(2)))
        .await
        .unwrap();
    let got = q.get_job(keyed).await.unwrap().unwrap();
    assert_eq!(got.concurrency_key.as_deref(), Some("customer:42"));
    assert_eq!(
        q.get_job(plain).await.unwrap().unwrap().concurrency_key,
        None
    );
    let listed = q.list_jobs(Some(JobState::Pending), 0).await.unwrap();
    let key_of = |id| {
        listed
            .iter()
            .find(|j| j.id == id)
            .map(|j| j.concurrency_key.clone())
    };
    assert_eq!(key_of(keyed), Some(Some("customer:42".into())));
    assert_eq!(key_of(plain), Some(None));
    let claimed = q.dequeue_batch(&["k"], 10).await.unwrap();
    assert_eq!(claimed.len(), 2);
    for job in claimed {
        let want = (job.id == keyed).then(|| "customer:42".to_string());
        assert_eq!(job.concurrency_key, want);
    }
    // A key the contract refuses is refused here too.
    let bad = q
        .enqueue(Job::new("k", serde_json::json!(3)).concurrency_key(""))
        .await;
    assert!(matches!(bad, Err(QueueError::InvalidJob(_))), "{bad:?}");
    q.drop_schema().await.unwrap();
}

#[tokio::test]
async fn limits_are_stored_replaced_listed_and_cleared() {
    use queue_core::Limit;
    let table = fresh_table();
    let q = queue_on(pg_pool(4).await, &table).await;
    assert!(q.limits().await.unwrap().is_empty());
    let full = Limit::per_key(2)
        .with_concurrency(u32::MAX)
        .with_rate(5, Duration::from_millis(1500))
        .with_rate_per_key(1, Duration::from_secs(60));
    q.set_limit("a", full.clone()).await.unwrap();
    q.set_limit("b", Limit::concurrency(1)).await.unwrap();
    q.set_limit("b", Limit::concurrency(4)).await.unwrap();
    let limits = q.limits().await.unwrap();
    assert_eq!(limits.len(), 2);
    assert_eq!(limits["a"], full);
    assert_eq!(limits["b"], Limit::concurrency(4));

    let empty = q.set_limit("a", Limit::default()).await;
    assert!(
        matches!(empty, Err(QueueError::InvalidRequest(_))),
        "{empty:?}"
    );
    let zero = q.set_limit("a", Limit::concurrency(0)).await;
    assert!(
        matches!(zero, Err(QueueError::InvalidRequest(_))),
        "{zero:?}"
    );
    assert!(q.set_limit("", Limit::concurrency(1)).await.is_err());
    assert!(q.clear_limit("").await.is_err());
    assert_eq!(
        q.limits().await.unwrap()["a"],
        full,
        "a refused limit changes nothing"
    );

    q.clear_limit("a").await.unwrap();
    q.clear_limit("a").await.unwrap();
    q.clear_limit("never-limited").await.unwrap();
    let limits = q.limits().await.unwrap();
    assert_eq!(limits.keys().collect::<Vec<_>>(), vec!["b"]);
    q.drop_schema().await.unwrap();
}

/// 4 pools × 4 claimers on one kind with 3 at once in all and 1 at once per key, 30 keys:
/// the claimers' own count never exceeds either, and every job runs once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_limits_hold_across_pools_and_claimers() {
    use queue_core::Limit;
    const JOBS: usize = 300;
    let table = fresh_table();
    let seed = queue_on(pg_pool(2).await, &table).await;
    seed.set_limit("lim", Limit::per_key(1).with_concurrency(3))
        .await
        .unwrap();
    let jobs = (0..JOBS)
        .map(|i| Job::new("lim", serde_json::json!(i)).concurrency_key(format!("key{}", i % 30)))
        .collect();
    seed.enqueue_batch(jobs).await.unwrap();

    let running = Arc::new(Mutex::new(Running::default()));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let q = queue_on(pg_pool(4).await, &table).await;
        for _ in 0..4 {
            let q = q.clone();
            let running = running.clone();
            let seen = seen.clone();
            tasks.push(tokio::spawn(async move {
                while seen.lock().unwrap().len() < JOBS {
                    let jobs = q.dequeue_batch(&["lim"], 4).await.unwrap();
                    if jobs.is_empty() {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        continue;
                    }
                    {
                        let mut r = running.lock().unwrap();
                        for job in &jobs {
                            r.kind += 1;
                            let key = job.concurrency_key.clone().unwrap();
                            let n = r.keys.entry(key).or_default();
                            *n += 1;
                            let n = *n;
                            r.most_key = r.most_key.max(n);
                            r.most_kind = r.most_kind.max(r.kind);
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(3)).await;
                    // Counted as stopped before the ack: the database frees the slot only
                    // at the ack, so a count over the limit is the database's doing.
                    {
                        let mut r = running.lock().unwrap();
                        for job in &jobs {
                            r.kind -= 1;
                            *r.keys
                                .get_mut(job.concurrency_key.as_deref().unwrap())
                                .unwrap() -= 1;
                        }
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
    {
        let r = running.lock().unwrap();
        assert!(r.most_kind <= 3, "{} of the kind ran at once", r.most_kind);
        assert_eq!(r.most_key, 1, "jobs of one key ran at once");
    }
    let seen = seen.lock().unwrap().clone();
    let unique: HashSet<_> = seen.iter().collect();
    assert_eq!(seen.len(), JOBS, "every job delivered once");
    assert_eq!(unique.len(), JOBS, "no job delivered twice");
    assert_eq!(seed.stats().await.unwrap().completed, JOBS as u64);
    seed.drop_schema().await.unwrap();
}

/// 500 jobs of key "a" ahead of one of "b": a claim with one per key takes a's best job
/// and b's, whatever lies between them.
#[tokio::test]
async fn a_key_at_its_limit_does_not_hold_up_the_others() {
    use queue_core::Limit;
    let table = fresh_table();
    let q = queue_on(pg_pool(4).await, &table).await;
    q.set_limit("sync", Limit::per_key(1)).await.unwrap();
    let a: Vec<_> = (0..500)
        .map(|i| Job::new("sync", serde_json::json!(i)).concurrency_key("a"))
        .collect();
    let a_ids = q.enqueue_batch(a).await.unwrap();
    let b_id = q
        .enqueue(Job::new("sync", serde_json::json!("b")).concurrency_key("b"))
        .await
        .unwrap();
    let got = q.dequeue_batch(&["sync"], 10).await.unwrap();
    let mut ids: Vec<_> = got.iter().map(|j| j.id).collect();
    ids.sort();
    assert_eq!(ids, vec![a_ids[0], b_id]);
    // Both keys at their limit: nothing more, and the claim does not wait.
    assert!(q.dequeue_batch(&["sync"], 10).await.unwrap().is_empty());
    // An ack frees a's slot for its next job.
    let a_lease = got
        .iter()
        .find(|j| j.id == a_ids[0])
        .unwrap()
        .lease
        .unwrap();
    q.ack(&a_lease).await.unwrap();
    let next = q.dequeue_batch(&["sync"], 10).await.unwrap();
    assert_eq!(
        next.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![a_ids[1]]
    );
    q.drop_schema().await.unwrap();
}

/// With more running jobs of the kind than a claim's window holds, a key at its limit is
/// still held (its running jobs are counted, not a prefix of the kind's), and the key
/// behind it served.
#[tokio::test]
async fn a_key_at_its_limit_is_held_among_more_running_jobs_than_the_window() {
    use queue_core::Limit;
    let table = fresh_table();
    let q = queue_on(pg_pool(4).await, &table).await;
    q.set_limit("sync", Limit::per_key(1)).await.unwrap();
    // 100 running jobs, one per key: more than the window of a claim of one (64).
    let running = (0..100)
        .map(|i| Job::new("sync", serde_json::json!(i)).concurrency_key(format!("k{i}")))
        .collect();
    q.enqueue_batch(running).await.unwrap();
    assert_eq!(q.dequeue_batch(&["sync"], 100).await.unwrap().len(), 100);
    // k99 sorts last of the running keys, past any prefix of them read at once.
    q.enqueue(Job::new("sync", serde_json::json!("held")).concurrency_key("k99"))
        .await
        .unwrap();
    let free = q
        .enqueue(Job::new("sync", serde_json::json!("free")).concurrency_key("k100"))
        .await
        .unwrap();
    let got = q.dequeue_batch(&["sync"], 1).await.unwrap();
    assert_eq!(ids_of(&got), vec![free]);
    q.drop_schema().await.unwrap();
}

/// The rotation cursor of `kind`'s key walk: NULL until a walk served a key. The window
/// (migration 9) leaves it alone, so it tells which of the two took a claim.
async fn last_key(pool: &sqlx::PgPool, table: &str, kind: &str) -> Option<String> {
    sqlx::query_scalar(&statement(
        "SELECT last_key FROM {table}_limits WHERE kind = $1",
        table,
    ))
    .bind(kind)
    .fetch_one(pool)
    .await
    .unwrap()
}

/// Ids of `got`, sorted.
fn ids_of(got: &[queue_core::Job]) -> Vec<queue_core::JobId> {
    let mut ids: Vec<_> = got.iter().map(|j| j.id).collect();
    ids.sort();
    ids
}

/// A claim of a kind limited per key takes its room from the head of the kind in claim
/// order (the walk would serve keys by name: k0, k1, ...), one job per key.
#[tokio::test]
async fn a_keyed_window_fills_the_claim_in_claim_order() {
    use queue_core::Limit;
    let table = fresh_table();
    let pool = pg_pool(4).await;
    let q = queue_on(pool.clone(), &table).await;
    q.set_limit("sync", Limit::per_key(1)).await.unwrap();
    let keys = ["k9", "k9", "k8", "k7", "k6", "k0", "k1"];
    let jobs = keys
        .iter()
        .enumerate()
        .map(|(i, k)| Job::new("sync", serde_json::json!(i)).concurrency_key(*k))
        .collect();
    let ids = q.enqueue_batch(jobs).await.unwrap();
    let got = q.dequeue_batch(&["sync"], 3).await.unwrap();
    assert_eq!(ids_of(&got), vec![ids[0], ids[2], ids[3]]);
    assert_eq!(last_key(&pool, &table, "sync").await, None, "no walk ran");
    q.drop_schema().await.unwrap();
}

/// A table of version 10 (the kind first in the per-key indexes) gets the key first from
/// migration 11, and a key's job that was running before still holds its slot.
#[tokio::test]
async fn a_table_from_version_10_counts_its_running_keys_after_migrating() {
    use queue_core::Limit;
    let table = fresh_table();
    let pool = pg_pool(4).await;
    let q = queue_on(pool.clone(), &table).await;
    q.set_limit("sync", Limit::per_key(1)).await.unwrap();
    let jobs = ["a", "a", "b"]
        .iter()
        .enumerate()
        .map(|(i, k)| Job::new("sync", serde_json::json!(i)).concurrency_key(*k))
        .collect();
    let ids = q.enqueue_batch(jobs).await.unwrap();
    let first = q.dequeue_batch(&["sync"], 1).await.unwrap();
    assert_eq!(ids_of(&first), vec![ids[0]]);
    q.close().await.unwrap();

    sqlx::raw_sql(&statement(
        "DROP INDEX {table}_key_running_idx; \
         CREATE INDEX {table}_key_running_idx \
             ON {table} (kind, concurrency_key, lease_expires_at) \
             WHERE state = 'running' AND concurrency_key IS NOT NULL; \
         DROP INDEX {table}_starts_key_idx; \
         CREATE INDEX {table}_starts_key_idx ON {table}_starts (kind, key, at); \
         DELETE FROM {table}_migrations WHERE version = 11",
        &table,
    ))
    .execute(&pool)
    .await
    .unwrap();
    let q = queue_on(pool.clone(), &table).await;
    let definition: String = sqlx::query_scalar(&statement(
        "SELECT pg_get_indexdef('{table}_key_running_idx'::regclass)",
        &table,
    ))
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(
        definition.contains("(concurrency_key, kind, lease_expires_at)"),
        "{definition}"
    );
    let next = q.dequeue_batch(&["sync"], 10).await.unwrap();
    assert_eq!(
        ids_of(&next),
        vec![ids[2]],
        "a's second job waits for its first"
    );
    q.drop_schema().await.unwrap();
}

/// A window holding every due job of the kind is the whole claim, though short of the
/// room: no walk follows. The job it left behind (a key at its limit) is not stepped
/// over by the next claim, which goes on from where the window's taken head ended.
#[tokio::test]
async fn a_short_keyed_window_is_the_whole_claim() {
    use queue_core::Limit;
    let table = fresh_table();
    let pool = pg_pool(4).await;
    let q = queue_on(pool.clone(), &table).await;
    q.set_limit("sync", Limit::per_key(1)).await.unwrap();
    let jobs = vec![
        Job::new("sync", serde_json::json!(0)).concurrency_key("a"),
        Job::new("sync", serde_json::json!(1)).concurrency_key("a"),
        Job::new("sync", serde_json::json!(2)).concurrency_key("b"),
        Job::new("sync", serde_json::json!(3)),
    ];
    let ids = q.enqueue_batch(jobs).await.unwrap();
    let got = q.dequeue_batch(&["sync"], 10).await.unwrap();
    assert_eq!(ids_of(&got), vec![ids[0], ids[2], ids[3]]);
    assert_eq!(last_key(&pool, &table, "sync").await, None, "no walk ran");
    assert!(q.dequeue_batch(&["sync"], 10).await.unwrap().is_empty());
    let a = got.iter().find(|j| j.id == ids[0]).unwrap();
    q.ack(&a.lease.unwrap()).await.unwrap();
    let next = q.dequeue_batch(&["sync"], 10).await.unwrap();
    assert_eq!(ids_of(&next), vec![ids[1]]);
    q.drop_schema().await.unwrap();
}

/// A window full of a key at its limit falls back to the walk, which takes the other
/// keys' jobs behind it; claims of one job then rotate among those keys, rather than
/// draining the first.
#[tokio::test]
async fn a_window_crowded_by_a_saturated_key_falls_back_to_the_walk() {
    use queue_core::Limit;
    let table = fresh_table();
    let pool = pg_pool(4).await;
    let q = queue_on(pool.clone(), &table).await;
    q.set_limit("sync", Limit::per_key(1)).await.unwrap();
    let mut jobs: Vec<_> = (0..100)
        .map(|i| Job::new("sync", serde_json::json!(i)).concurrency_key("a"))
        .collect();
    jobs.extend(
        ["b", "b", "c", "c", "d", "d"]
            .iter()
            .enumerate()
            .map(|(i, k)| Job::new("sync", serde_json::json!(i)).concurrency_key(*k)),
    );
    let ids = q.enqueue_batch(jobs).await.unwrap();
    let first = q.dequeue_batch(&["sync"], 1).await.unwrap();
    assert_eq!(
        ids_of(&first),
        vec![ids[0]],
        "the window takes a's first job"
    );
    assert_eq!(last_key(&pool, &table, "sync").await, None);
    let mut order = Vec::new();
    for _ in 0..6 {
        let got = q.dequeue_batch(&["sync"], 1).await.unwrap();
        assert_eq!(got.len(), 1, "a at its limit holds up no other key");
        order.push(got[0].concurrency_key.clone().unwrap());
        q.ack(&got[0].lease.unwrap()).await.unwrap();
    }
    assert_eq!(order, vec!["b", "c", "d", "b", "c", "d"]);
    assert_eq!(last_key(&pool, &table, "sync").await.as_deref(), Some("d"));
    q.drop_schema().await.unwrap();
    let left: i64 =
        sqlx::query_scalar("SELECT count(*) FROM pg_proc WHERE starts_with(proname, $1)")
            .bind(format!("{table}_"))
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(left, 0, "drop_schema drops every function of the table");
}

/// A per-key rate is counted in the window, and the window records the starts it makes.
#[tokio::test]
async fn a_per_key_rate_holds_through_the_window() {
    use queue_core::Limit;
    let table = fresh_table();
    let pool = pg_pool(4).await;
    let q = queue_on(pool.clone(), &table).await;
    q.set_limit("kr", Limit::rate_per_key(2, Duration::from_secs(3600)))
        .await
        .unwrap();
    let jobs = (0..6)
        .map(|i| Job::new("kr", serde_json::json!(i)).concurrency_key(["x", "y"][i % 2]))
        .collect();
    let ids = q.enqueue_batch(jobs).await.unwrap();
    let got = q.dequeue_batch(&["kr"], 10).await.unwrap();
    assert_eq!(ids_of(&got), ids[..4].to_vec());
    assert_eq!(last_key(&pool, &table, "kr").await, None, "no walk ran");
    for job in got {
        q.ack(&job.lease.unwrap()).await.unwrap();
    }
    // Starts count, not running jobs.
    assert!(q.dequeue_batch(&["kr"], 10).await.unwrap().is_empty());
    q.drop_schema().await.unwrap();
}

/// A kind at its limit is skipped: the claim fills up with other kinds' jobs, and jobs
/// without a key are held by the kind-wide parts only.
#[tokio::test]
async fn a_kind_at_its_limit_leaves_the_claim_to_other_kinds() {
    use queue_core::Limit;
    let table = fresh_table();
    let q = queue_on(pg_pool(4).await, &table).await;
    q.set_limit("lim", Limit::concurrency(2)).await.unwrap();
    q.set_limit("keyed", Limit::per_key(1)).await.unwrap();
    let mut jobs: Vec<_> = (0..5)
        .map(|i| Job::new("lim", serde_json::json!(i)))
        .collect();
    jobs.extend((0..5).map(|i| Job::new("free", serde_json::json!(i))));
    jobs.extend((0..3).map(|i| Job::new("keyed", serde_json::json!(i))));
    jobs.extend((0..3).map(|i| Job::new("keyed", serde_json::json!(i)).concurrency_key("k")));
    q.enqueue_batch(jobs).await.unwrap();
    let got = q.dequeue_batch(&[], 100).await.unwrap();
    let count = |kind: &str, keyed: bool| {
        got.iter()
            .filter(|j| j.kind == kind && j.concurrency_key.is_some() == keyed)
            .count()
    };
    assert_eq!(count("lim", false), 2);
    assert_eq!(count("free", false), 5);
    assert_eq!(
        count("keyed", false),
        3,
        "jobs without a key are not held per key"
    );
    assert_eq!(count("keyed", true), 1);
    assert_eq!(got.len(), 11);
    assert!(q.dequeue_batch(&[], 100).await.unwrap().is_empty());
    // Raising the limit frees its jobs at once; clearing it frees the rest.
    q.set_limit("lim", Limit::concurrency(3)).await.unwrap();
    assert_eq!(q.dequeue_batch(&["lim"], 100).await.unwrap().len(), 1);
    q.clear_limit("lim").await.unwrap();
    assert_eq!(q.dequeue_batch(&["lim"], 100).await.unwrap().len(), 2);
    q.drop_schema().await.unwrap();
}

#[tokio::test]
async fn a_rate_allows_so_many_starts_per_window() {
    use queue_core::Limit;
    let table = fresh_table();
    let q = queue_on(pg_pool(4).await, &table).await;
    let period = Duration::from_secs(2);
    q.set_limit("r", Limit::rate(5, period)).await.unwrap();
    q.set_limit("kr", Limit::rate_per_key(2, Duration::from_secs(3600)))
        .await
        .unwrap();
    let mut jobs: Vec<_> = (0..20)
        .map(|i| Job::new("r", serde_json::json!(i)))
        .collect();
    jobs.extend(
        (0..10).map(|i| Job::new("kr", serde_json::json!(i)).concurrency_key(["x", "y"][i % 2])),
    );
    q.enqueue_batch(jobs).await.unwrap();

    let started = std::time::Instant::now();
    let mut claimed = 0;
    for _ in 0..3 {
        let got = q.dequeue_batch(&["r"], 4).await.unwrap();
        claimed += got.len();
        // Starts count, not running jobs: acks free nothing.
        for job in got {
            q.ack(&job.lease.unwrap()).await.unwrap();
        }
    }
    if started.elapsed() < period {
        assert_eq!(claimed, 5, "starts within one window");
    }
    // Per key: two starts of x and two of y within the hour.
    let kr = q.dequeue_batch(&["kr"], 10).await.unwrap();
    assert_eq!(kr.len(), 4);
    assert!(q.dequeue_batch(&["kr"], 10).await.unwrap().is_empty());

    // Once the window has passed, five more.
    tokio::time::sleep(period + Duration::from_millis(200)).await;
    let got = q.dequeue_batch(&["r"], 20).await.unwrap();
    assert_eq!(got.len(), 5);
    q.drop_schema().await.unwrap();
}

/// A claim whose lease ran out (a crashed worker) frees its slot, before any reclaim.
#[tokio::test]
async fn an_expired_lease_frees_its_slot() {
    use queue_core::Limit;
    let table = fresh_table();
    let pool = pg_pool(4).await;
    let q = SqlQueue::from_pg_pool(
        pool,
        SqlOptions::default()
            .table(&table)
            .maintenance_every(Duration::from_secs(3600)),
    )
    .await
    .unwrap();
    q.set_limit("lim", Limit::per_key(1).with_concurrency(1))
        .await
        .unwrap();
    let jobs = (0..3)
        .map(|i| Job::new("lim", serde_json::json!(i)).concurrency_key("k"))
        .collect();
    q.enqueue_batch(jobs).await.unwrap();
    q.set_lease_timeout(Duration::from_millis(300));
    let first = q.dequeue_batch(&["lim"], 10).await.unwrap();
    assert_eq!(first.len(), 1);
    assert!(q.dequeue_batch(&["lim"], 10).await.unwrap().is_empty());
    eventually("the lease to run out and free the slot", || async {
        q.dequeue_batch(&["lim"], 10).await.unwrap().len() == 1
    })
    .await;
    let s = q.stats().await.unwrap();
    assert_eq!(
        s.running, 2,
        "the expired job is still running until reclaimed"
    );
    q.drop_schema().await.unwrap();
}

#[tokio::test]
async fn stats_show_running_and_waiting_per_limited_kind() {
    use queue_core::{Limit, LimitStats};
    let table = fresh_table();
    let q = queue_on(pg_pool(4).await, &table).await;
    q.set_limit("lim", Limit::concurrency(2)).await.unwrap();
    q.set_limit("keyed", Limit::per_key(1)).await.unwrap();
    q.set_limit("paused", Limit::concurrency(1)).await.unwrap();
    let mut jobs: Vec<_> = (0..5)
        .map(|i| Job::new("lim", serde_json::json!(i)))
        .collect();
    jobs.extend((0..3).map(|i| Job::new("keyed", serde_json::json!(i)).concurrency_key("a")));
    jobs.push(Job::new("keyed", serde_json::json!("b")).concurrency_key("b"));
    jobs.push(Job::new("keyed", serde_json::json!("plain")));
    jobs.extend((0..4).map(|i| Job::new("paused", serde_json::json!(i))));
    // Not due: never waiting.
    jobs.push(Job::new("lim", serde_json::json!("later")).delay(Duration::from_secs(3600)));
    q.enqueue_batch(jobs).await.unwrap();
    q.pause_kind("paused").await.unwrap();

    let stats = |kind: &str, limit: Limit, running: u64, waiting: u64| LimitStats {
        kind: kind.into(),
        limit,
        running,
        waiting,
    };
    let before = q.stats().await.unwrap().limits;
    assert_eq!(
        before,
        vec![
            // Due: 3 of a (1 may start), 1 of b, 1 without a key.
            stats("keyed", Limit::per_key(1), 0, 2),
            stats("lim", Limit::concurrency(2), 0, 3),
            stats("paused", Limit::concurrency(1), 0, 0),
        ]
    );
    let got = q.dequeue_batch(&["lim", "keyed"], 2).await.unwrap();
    assert_eq!(got.len(), 2);
    let got = q.dequeue_batch(&["lim", "keyed"], 100).await.unwrap();
    assert_eq!(got.len(), 3);
    let after = q.stats().await.unwrap().limits;
    assert_eq!(
        after,
        vec![
            stats("keyed", Limit::per_key(1), 3, 2),
            stats("lim", Limit::concurrency(2), 2, 3),
            stats("paused", Limit::concurrency(1), 0, 0),
        ]
    );
    q.drop_schema().await.unwrap();
}

/// Storing or clearing a limit wakes idle workers of other processes, as a resume does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_and_clear_limit_wake_other_processes() {
    use queue_core::Limit;
    let table = fresh_table();
    let a = queue_on(pg_pool(4).await, &table).await;
    let b = queue_on(pg_pool(4).await, &table).await;
    let mut sub = b.subscribe();
    sub.mark_seen();
    a.set_limit("k", Limit::concurrency(1)).await.unwrap();
    assert!(
        sub.wait(Duration::from_secs(30)).await,
        "set_limit woke the other process"
    );
    sub.mark_seen();
    a.clear_limit("k").await.unwrap();
    assert!(
        sub.wait(Duration::from_secs(30)).await,
        "clear_limit woke the other process"
    );
    a.drop_schema().await.unwrap();
}

/// A limited kind's walk goes on from where the last one ended: its jobs still come in
/// claim order across priorities, and a job put before that point (a due time in the
/// past) is still found.
#[tokio::test]
async fn a_limited_kind_drains_in_claim_order() {
    use queue_core::Limit;
    let table = fresh_table();
    let q = queue_on(pg_pool(4).await, &table).await;
    q.set_limit("lim", Limit::concurrency(1000)).await.unwrap();
    let jobs = (0..120)
        .map(|i| Job::new("lim", serde_json::json!(i)).priority(if i % 3 == 0 { 5 } else { 0 }))
        .collect();
    let ids = q.enqueue_batch(jobs).await.unwrap();
    let mut order = Vec::new();
    for _ in 0..3 {
        let got = q.dequeue_batch(&["lim"], 25).await.unwrap();
        assert_eq!(got.len(), 25);
        order.extend(got.iter().map(|j| (j.priority, j.id)));
    }
    let mut want: Vec<_> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (if i % 3 == 0 { 5 } else { 0 }, *id))
        .collect();
    want.sort_by_key(|(p, id)| (std::cmp::Reverse(*p), *id));
    want.truncate(75);
    assert_eq!(order, want);
    // Due an hour ago: before the point where the walk stopped.
    let early = q
        .enqueue(
            Job::new("lim", serde_json::json!("early"))
                .run_at(time::OffsetDateTime::now_utc() - time::Duration::HOUR),
        )
        .await
        .unwrap();
    // Within the second a walk trusts its point, or at once.
    let mut found = false;
    for _ in 0..300 {
        let got = q.dequeue_batch(&["lim"], 100).await.unwrap();
        if got.iter().any(|j| j.id == early) {
            found = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(found, "the early job was never claimed");
    q.drop_schema().await.unwrap();
}
