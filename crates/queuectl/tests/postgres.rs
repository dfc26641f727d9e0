//! Every command of the binary against Postgres (`DATABASE_URL`, else the local default;
//! `QUEUE_SKIP_SERVERS=1` skips), each test in a table of its own; and what the tool
//! says, never showing the password, when the server cannot be reached or refuses.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::{scenarios, Place};

#[tokio::test]
async fn migrate_and_missing_tables() {
    let Some(place) = Place::postgres() else {
        return;
    };
    scenarios::migrate_and_missing_tables(place).await;
}

#[tokio::test]
async fn enqueue_get_stats_list() {
    let Some(place) = Place::postgres() else {
        return;
    };
    scenarios::enqueue_get_stats_list(place).await;
}

#[tokio::test]
async fn single_job_actions() {
    let Some(place) = Place::postgres() else {
        return;
    };
    scenarios::single_job_actions(place).await;
}

#[tokio::test]
async fn bulk_replay() {
    let Some(place) = Place::postgres() else {
        return;
    };
    scenarios::bulk_replay(place).await;
}

#[tokio::test]
async fn purge() {
    let Some(place) = Place::postgres() else {
        return;
    };
    scenarios::purge(place).await;
}

#[tokio::test]
async fn pause_and_resume() {
    let Some(place) = Place::postgres() else {
        return;
    };
    scenarios::pause_and_resume(place).await;
}

#[tokio::test]
async fn watch() {
    let Some(place) = Place::postgres() else {
        return;
    };
    scenarios::watch(place).await;
}

#[tokio::test]
async fn terminal() {
    let Some(place) = Place::postgres() else {
        return;
    };
    scenarios::terminal(place).await;
}

/// The test URL with `password` put in its user info.
fn with_password(url: &str, password: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let (userinfo, host) = rest.rsplit_once('@').unwrap_or(("postgres", rest));
    let user = userinfo.split(':').next().unwrap_or("postgres");
    format!("{scheme}://{user}:{password}@{host}")
}

#[tokio::test]
async fn passwords_never_show_in_output_or_errors() {
    let Some(place) = Place::postgres() else {
        return;
    };
    const SECRET: &str = "s3cret-Pw";
    let url = with_password(&place.url, SECRET);
    // The test server trusts local connections: the password is accepted, and ignored.
    let cli = support::Cli {
        queue_args: vec![
            "--url".into(),
            url.clone(),
            "--table".into(),
            place.table.clone(),
        ],
    };
    for run in [
        cli.run(&["migrate"]).ok(),
        cli.run(&["migrate", "--json"]).ok(),
        cli.run(&["stats"]).ok(),
        cli.run(&["list"]).ok(),
        cli.run(&["watch", "--count", "1"]).ok(),
        cli.run(&["get", &queue_core::JobId::new().to_string()])
            .fails(1, "no job"),
        cli.run(&["purge", "--state", "failed", "--older-than", "1d", "--yes"])
            .ok(),
    ] {
        assert!(!format!("{run:?}").contains(SECRET), "{run:#?}");
    }
    let shown = cli.run(&["migrate"]).ok().stdout;
    assert!(shown.contains(":***@"), "{shown}");

    // A database that does not exist: the server's error, with a hint, without the password.
    let (base, _) = url.rsplit_once('/').expect("a database in the URL");
    let missing = support::Cli {
        queue_args: vec!["--url".into(), format!("{base}/queuectl_no_such_db")],
    };
    let run = missing
        .run(&["stats"])
        .fails(1, "does not exist (create it");
    assert!(!format!("{run:?}").contains(SECRET), "{run:#?}");

    // Nothing listens on port 1.
    let refused = support::Cli {
        queue_args: vec![
            "--url".into(),
            format!("postgres://postgres:{SECRET}@127.0.0.1:1/test"),
        ],
    };
    let run = refused.run(&["stats"]).fails(
        1,
        "connection refused (is the server running at 127.0.0.1:1?)",
    );
    assert!(!format!("{run:?}").contains(SECRET), "{run:#?}");
    let run = refused.run(&["migrate"]).fails(1, "127.0.0.1:1");
    assert!(!format!("{run:?}").contains(SECRET), "{run:#?}");

    // A URL the driver cannot parse.
    let bad = support::Cli {
        queue_args: vec![
            "--url".into(),
            format!("postgres://u:{SECRET}@h:99999999/db"),
        ],
    };
    let run = bad.run(&["stats"]).fails(2, "bad Postgres URL");
    assert!(!format!("{run:?}").contains(SECRET), "{run:#?}");

    let queue = place.open().await;
    place.cleanup(queue).await;
}

#[tokio::test]
async fn serve() {
    let Some(place) = Place::postgres() else {
        return;
    };
    scenarios::serve(place).await;
}
