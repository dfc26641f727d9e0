//! The harness can fail: workers whose heartbeats lie (every lease "renewed" without
//! asking the backend) run jobs past their leases while other workers run them again,
//! and the ledger analysis reports those overlaps. The same long jobs with honest
//! heartbeats pass. SQLite, so no server is needed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::Duration;

use queue_chaos::report::Row;
use queue_chaos::scenario::{self, BackendKind, Fault, Scenario, Servers, Settings};

/// `jobs` jobs longer than the lease on two workers of four slots each: with fewer jobs
/// than slots, a job whose lease runs out is claimed again at once by an idle slot.
async fn long_jobs(jobs: usize, ms: (u64, u64), lying_heartbeat: bool, deadline: Duration) -> Row {
    let dir = std::env::temp_dir().join(format!(
        "queue-chaos-sabotage-{}-{lying_heartbeat}",
        std::process::id()
    ));
    let settings = Settings {
        jobs,
        deadline,
        lease: Duration::from_secs(1),
        // Longer than the lease: only heartbeats keep the jobs from being reclaimed.
        handler_ms: ms,
        long_every: None,
        long_ms: (0, 0),
        keep: false,
        worker_bin: PathBuf::from(env!("CARGO_BIN_EXE_chaos-worker")),
        dir: dir.clone(),
        lying_heartbeat,
    };
    let scn = Scenario {
        name: "long jobs",
        backend: BackendKind::Sqlite,
        fault: Fault::Nothing,
        workers: 2,
        concurrency: 4,
        pool: None,
        quick: true,
        limit: None,
    };
    let row = scenario::run(&scn, &settings, &Servers::default(), 0).await;
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!("{}", queue_chaos::report::table(std::slice::from_ref(&row)));
    row
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lying_heartbeats_are_caught_as_overlapping_runs() {
    let row = long_jobs(4, (3_000, 4_000), true, Duration::from_secs(6)).await;
    assert!(row.overlapping > 0, "no overlap found: {row:?}");
    let why = row.failure.expect("the scenario passed");
    assert!(why.contains("overlapping runs"), "{why}");
    assert!(row.details.iter().any(|d| d.starts_with("overlap: job ")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn honest_heartbeats_keep_long_jobs_single() {
    let row = long_jobs(12, (1_500, 2_500), false, Duration::from_secs(60)).await;
    assert_eq!(row.failure, None, "{row:?}");
    assert_eq!((row.completed, row.overlapping, row.lost), (12, 0, 0));
}
