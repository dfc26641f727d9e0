//! Checks of the dialect's internals: query plans and pruning, which the public API does
//! not expose.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use queue_core::{Browsable, Job, JobId, JobState, Queue};

use super::{open_pool, SqliteQueue};
use crate::maintenance::Maintain;
use crate::SqlOptions;

/// A database file removed (best effort) when dropped.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
        }
    }
}

async fn queue(opts: SqlOptions) -> (Arc<SqliteQueue>, TempFile) {
    let file = TempFile(std::env::temp_dir().join(format!(
        "queue-sql-unit-{}.db",
        JobId::new().to_string().to_lowercase()
    )));
    let pool = open_pool(&format!("sqlite:{}", file.0.display()))
        .await
        .unwrap();
    (SqliteQueue::open(pool, opts).await.unwrap(), file)
}

async fn plan(q: &SqliteQueue, sql: &str) -> String {
    let rows: Vec<(i64, i64, i64, String)> = sqlx::query_as(&format!("EXPLAIN QUERY PLAN {sql}"))
        .fetch_all(&q.pool)
        .await
        .unwrap();
    rows.into_iter().map(|r| r.3).collect::<Vec<_>>().join("\n")
}

#[tokio::test]
async fn hot_statements_walk_their_partial_indexes() {
    let (q, _file) = queue(SqlOptions::default().table("plans")).await;
    // The claim must read the pending index in ORDER BY order, never sort all pending rows.
    let claim = plan(&q, &q.sql.claim).await;
    assert!(claim.contains("plans_pending_idx"), "{claim}");
    assert!(!claim.contains("TEMP B-TREE"), "{claim}");
    // One priority at a time, so the due time bounds the range: the walk ends at the first
    // job not yet due instead of reading every job scheduled for later.
    assert!(claim.contains("(priority=? AND scheduled_at<?)"), "{claim}");
    let next = plan(&q, &q.sql.next_priority).await;
    assert!(next.contains("plans_pending_idx"), "{next}");
    let reclaim = plan(&q, &q.sql.reclaim).await;
    assert!(reclaim.contains("plans_lease_idx"), "{reclaim}");
    assert!(!reclaim.contains("TEMP B-TREE"), "{reclaim}");
    let prune = plan(&q, &q.sql.prune).await;
    assert!(prune.contains("plans_finished_idx"), "{prune}");
    // Acks and heartbeats probe the primary key; listings walk it, never sort.
    for sql in [&q.sql.ack, &q.sql.complete, &q.sql.heartbeat] {
        let p = plan(&q, sql).await;
        assert!(p.contains("sqlite_autoindex_plans_1 (id=?)"), "{p}");
    }
    let list = plan(&q, &q.sql.list).await;
    assert!(!list.contains("TEMP B-TREE"), "{list}");
    assert!(list.contains("sqlite_autoindex_plans_1 (id<?)"), "{list}");
    // Admin calls: the loose walk over priorities, and purge by age, stay on their indexes.
    let oldest = plan(&q, &q.sql.oldest_due).await;
    assert!(!oldest.contains("SCAN plans"), "{oldest}");
    assert!(!oldest.contains("TEMP B-TREE"), "{oldest}");
    let purge = plan(&q, &q.sql.purge).await;
    assert!(purge.contains("plans_finished_idx"), "{purge}");
    assert!(!purge.contains("TEMP B-TREE"), "{purge}");
    for sql in [&q.sql.run_now, &q.sql.delete] {
        let p = plan(&q, sql).await;
        assert!(p.contains("sqlite_autoindex_plans_1 (id=?)"), "{p}");
    }
    // Migration 2 dropped the index by state, which every claim and ack had to move.
    let indexes: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'plans'",
    )
    .fetch_all(&q.pool)
    .await
    .unwrap();
    assert!(
        !indexes.iter().any(|i| i == "plans_state_idx"),
        "{indexes:?}"
    );
}

#[tokio::test]
async fn limit_statements_walk_their_indexes() {
    let (q, _file) = queue(SqlOptions::default().table("plans")).await;
    let l = &q.sql.limit;
    // A kind's due jobs: one priority at a time on the pending index, never a sort.
    let kind_jobs = plan(&q, &l.kind_jobs).await;
    assert!(
        kind_jobs.contains("plans_pending_idx (priority=? AND scheduled_at<?)"),
        "{kind_jobs}"
    );
    assert!(!kind_jobs.contains("TEMP B-TREE"), "{kind_jobs}");
    // Keys: one probe of the keyed index each; a key's jobs read in its order.
    for sql in [&l.next_key, &l.key_jobs] {
        let p = plan(&q, sql).await;
        assert!(
            p.contains("plans_keyed_pending_idx (kind=? AND concurrency_key"),
            "{p}"
        );
        assert!(!p.contains("TEMP B-TREE"), "{p}");
    }
    let key_running = plan(&q, &l.key_running).await;
    assert!(
        key_running.contains(
            "plans_keyed_running_idx (kind=? AND concurrency_key=? AND lease_expires_at>?)"
        ),
        "{key_running}"
    );
    // A window: one priority's head on the pending index, then one probe of the keyed
    // running index and of the starts per key of the window.
    let window = plan(&q, &l.window).await;
    for probe in [
        "plans_pending_idx (priority=? AND scheduled_at<?)",
        "plans_keyed_running_idx (kind=? AND concurrency_key=? AND lease_expires_at>?)",
        "plans_starts_key_idx (kind=? AND key=? AND at>?)",
    ] {
        assert!(window.contains(probe), "{window}");
    }
    // Only the window's few rows are sorted, never the pending index.
    assert!(!window.contains("RIGHT PART OF ORDER BY"), "{window}");
    // A claim's window: read as a coroutine in claim order and never sorted, so it stops
    // at the last pick; per row, one probe of its key's running jobs and one of its key's
    // jobs ahead of it.
    let take = plan(&q, &l.take).await;
    for probe in [
        "CO-ROUTINE h",
        "plans_pending_idx (priority=? AND scheduled_at<?)",
        "plans_keyed_running_idx (kind=? AND concurrency_key=? AND lease_expires_at>?)",
        "plans_starts_key_idx (kind=? AND key=? AND at>?)",
        "plans_keyed_pending_idx (kind=? AND concurrency_key=? AND priority=? AND scheduled_at<?)",
        "SEARCH l USING PRIMARY KEY (kind=?)",
    ] {
        assert!(take.contains(probe), "{take}");
    }
    assert!(!take.contains("TEMP B-TREE"), "{take}");
    assert!(!take.contains("AUTOMATIC"), "{take}");
    let held = plan(&q, &l.held).await;
    assert!(
        held.contains("plans_pending_idx (priority=? AND scheduled_at<?)"),
        "{held}"
    );
    // A claim's limits: the running jobs of a kind by lease deadline, as below.
    let claimed = plan(&q, &l.claimed).await;
    assert!(
        claimed.contains("plans_lease_idx (lease_expires_at>?)"),
        "{claimed}"
    );
    let running = plan(&q, &l.running).await;
    assert!(
        running.contains("plans_lease_idx (lease_expires_at>?)"),
        "{running}"
    );
    let starts = plan(&q, &l.starts).await;
    assert!(
        starts.contains("plans_starts_at_idx (kind=? AND at>?)"),
        "{starts}"
    );
    let key_starts = plan(&q, &l.key_starts).await;
    assert!(
        key_starts.contains("plans_starts_key_idx (kind=? AND key=? AND at>?)"),
        "{key_starts}"
    );
    let trim = plan(&q, &l.trim).await;
    assert!(
        trim.contains("plans_starts_at_idx (kind=? AND at<?)"),
        "{trim}"
    );
    let claim = plan(&q, &l.claim).await;
    assert!(claim.contains("INTEGER PRIMARY KEY (rowid=?)"), "{claim}");
}

#[tokio::test]
async fn prune_keeps_what_is_retained_and_held() {
    let (q, _file) = queue(SqlOptions::default().keep_completed_for(Duration::ZERO)).await;
    let plain = q
        .enqueue(Job::new("k", serde_json::json!(1)))
        .await
        .unwrap();
    let windowed = q
        .enqueue(Job::new("k", serde_json::json!(2)).unique_for("w", Duration::from_secs(3600)))
        .await
        .unwrap();
    let failed = q
        .enqueue(Job::new("k", serde_json::json!(3)).max_attempts(1))
        .await
        .unwrap();
    let cancelled = q
        .enqueue(Job::new("k", serde_json::json!(4)))
        .await
        .unwrap();
    let pending = q
        .enqueue(Job::new("later", serde_json::json!(5)))
        .await
        .unwrap();
    assert!(q.cancel(cancelled).await.unwrap().is_accepted());
    for job in q.dequeue_batch(&["k"], 10).await.unwrap() {
        let lease = job.lease.unwrap();
        if job.id == failed {
            q.nack(&lease, "boom").await.unwrap();
        } else {
            q.ack(&lease).await.unwrap();
        }
    }
    // Finished "before now" needs the clock to move past finished_at.
    tokio::time::sleep(Duration::from_millis(2)).await;
    assert_eq!(q.prune().await.unwrap(), 2);
    let left = |id| {
        let q = q.clone();
        async move { q.get_job(id).await.unwrap().map(|j| j.state) }
    };
    assert_eq!(left(plain).await, None);
    assert_eq!(left(cancelled).await, None);
    // A held unique window outlives retention; failed jobs stay unless asked otherwise.
    assert_eq!(left(windowed).await, Some(JobState::Completed));
    assert_eq!(left(failed).await, Some(JobState::Failed));
    assert_eq!(left(pending).await, Some(JobState::Pending));

    let (q2, _file2) = queue(
        SqlOptions::default()
            .keep_completed_for(Duration::from_secs(3600))
            .keep_failed_for(Duration::ZERO),
    )
    .await;
    let failed = q2
        .enqueue(Job::new("k", serde_json::json!(1)).max_attempts(1))
        .await
        .unwrap();
    let done = q2
        .enqueue(Job::new("k", serde_json::json!(2)))
        .await
        .unwrap();
    for job in q2.dequeue_batch(&[], 10).await.unwrap() {
        let lease = job.lease.unwrap();
        if job.id == failed {
            q2.discard(&lease, "no").await.unwrap();
        } else {
            q2.ack(&lease).await.unwrap();
        }
    }
    tokio::time::sleep(Duration::from_millis(2)).await;
    assert_eq!(q2.prune().await.unwrap(), 1);
    assert!(q2.get_job(failed).await.unwrap().is_none());
    assert!(q2.get_job(done).await.unwrap().is_some());
}

#[tokio::test]
async fn background_tasks_end_when_the_queue_closes_or_drops() {
    let alive = || {
        tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks()
    };
    let settle = || tokio::time::sleep(Duration::from_millis(200));
    let opts = SqlOptions::default().maintenance_every(Duration::from_millis(10));
    let (q, _file) = queue(opts.clone()).await;
    settle().await;
    let open = alive();
    q.close().await.unwrap();
    settle().await;
    // Maintenance and the data_version watch.
    assert_eq!(open - alive(), 2);

    let (q, _file2) = queue(opts.clone()).await;
    settle().await;
    let open = alive();
    drop(q);
    settle().await;
    assert!(
        open - alive() >= 2,
        "{open} tasks before, {} after",
        alive()
    );

    // Without notifications only maintenance runs.
    let (q, _file3) = queue(opts.notifications(false)).await;
    settle().await;
    let open = alive();
    q.close().await.unwrap();
    settle().await;
    assert_eq!(open - alive(), 1);
}

/// The kind a claim may take in one statement, as the last full claim left it.
fn alone(q: &SqliteQueue) -> Option<(String, u32)> {
    q.key_limited_alone
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone()
}

/// A claim of several kinds, one of them limited per key and in no other way, takes that
/// kind in one statement and the others by the plain claim, until limits change: another
/// limited kind among those asked for, or a crowded window, sends it back to the full claim.
#[tokio::test]
async fn a_claim_of_several_kinds_takes_its_one_keyed_kind_alone() {
    use queue_core::Limit;
    let (q, _file) = queue(SqlOptions::default().table("alone")).await;
    q.set_limit("k", Limit::per_key(1)).await.unwrap();
    let keyed = |k: &str| Job::new("k", serde_json::json!(k)).concurrency_key(k);
    let plain = || {
        (0..3)
            .map(|i| Job::new("p", serde_json::json!(i)))
            .collect()
    };
    q.enqueue_batch(vec![keyed("x"), keyed("x"), keyed("y")])
        .await
        .unwrap();
    q.enqueue_batch(plain()).await.unwrap();
    let kinds = ["k", "p"];
    // The full claim: k first (x's second job waits), then p.
    let first = q.dequeue_batch(&kinds, 4).await.unwrap();
    let count = |got: &[Job], kind: &str| got.iter().filter(|j| j.kind == kind).count();
    assert_eq!((count(&first, "k"), count(&first, "p")), (2, 2));
    assert_eq!(alone(&q), Some(("k".into(), 1)));
    // Alone now: z's job comes from k's take, p's last one from the plain claim.
    q.enqueue(keyed("z")).await.unwrap();
    let second = q.dequeue_batch(&kinds, 4).await.unwrap();
    assert_eq!((count(&second, "k"), count(&second, "p")), (1, 1));
    assert_eq!(alone(&q), Some(("k".into(), 1)), "still alone");
    // p gains a limit: the plain claim would step over p for good, so the full claim
    // comes back, and p gets its one slot.
    q.set_limit("p", Limit::concurrency(1)).await.unwrap();
    q.enqueue_batch(plain()).await.unwrap();
    for job in first.iter().chain(&second).filter(|j| j.kind == "p") {
        q.ack(&job.lease.unwrap()).await.unwrap();
    }
    let got = q.dequeue_batch(&kinds, 4).await.unwrap();
    assert_eq!((count(&got, "k"), count(&got, "p")), (0, 1));
    assert_eq!(alone(&q), None);
}
