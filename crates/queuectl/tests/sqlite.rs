//! Every command of the binary against a SQLite file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::{scenarios, Place};

#[tokio::test]
async fn migrate_and_missing_tables() {
    scenarios::migrate_and_missing_tables(Place::sqlite()).await;
}

#[tokio::test]
async fn enqueue_get_stats_list() {
    scenarios::enqueue_get_stats_list(Place::sqlite()).await;
}

#[tokio::test]
async fn single_job_actions() {
    scenarios::single_job_actions(Place::sqlite()).await;
}

#[tokio::test]
async fn bulk_replay() {
    scenarios::bulk_replay(Place::sqlite()).await;
}

#[tokio::test]
async fn purge() {
    scenarios::purge(Place::sqlite()).await;
}

#[tokio::test]
async fn pause_and_resume() {
    scenarios::pause_and_resume(Place::sqlite()).await;
}

#[tokio::test]
async fn watch() {
    scenarios::watch(Place::sqlite()).await;
}

#[tokio::test]
async fn serve() {
    scenarios::serve(Place::sqlite()).await;
}

#[tokio::test]
async fn terminal() {
    scenarios::terminal(Place::sqlite()).await;
}

#[test]
fn a_missing_file_is_not_created() {
    let place = Place::sqlite();
    place.cli().run(&["stats"]).fails(1, "no queue at sqlite:");
    let path = place.url.trim_start_matches("sqlite:");
    assert!(!std::path::Path::new(path).exists(), "{path} was created");
}

#[test]
fn in_memory_databases_are_refused() {
    support::binary()
        .args(["--url", "sqlite::memory:", "stats"])
        .output()
        .map(|out| {
            assert_eq!(out.status.code(), Some(2));
            assert!(String::from_utf8_lossy(&out.stderr).contains("give a file"));
        })
        .expect("run queuectl");
}
