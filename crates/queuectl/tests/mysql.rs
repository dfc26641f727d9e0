//! Every command of the binary against MySQL or MariaDB (`MYSQL_URL`, else the local
//! default; `QUEUE_SKIP_SERVERS=1` skips), each test in a table of its own; and what the
//! tool says, never showing the password, when the server cannot be reached or refuses.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::{scenarios, Place};

#[tokio::test]
async fn migrate_and_missing_tables() {
    let Some(place) = Place::mysql() else {
        return;
    };
    scenarios::migrate_and_missing_tables(place).await;
}

#[tokio::test]
async fn enqueue_get_stats_list() {
    let Some(place) = Place::mysql() else {
        return;
    };
    scenarios::enqueue_get_stats_list(place).await;
}

#[tokio::test]
async fn single_job_actions() {
    let Some(place) = Place::mysql() else {
        return;
    };
    scenarios::single_job_actions(place).await;
}

#[tokio::test]
async fn bulk_replay() {
    let Some(place) = Place::mysql() else {
        return;
    };
    scenarios::bulk_replay(place).await;
}

#[tokio::test]
async fn purge() {
    let Some(place) = Place::mysql() else {
        return;
    };
    scenarios::purge(place).await;
}

#[tokio::test]
async fn pause_and_resume() {
    let Some(place) = Place::mysql() else {
        return;
    };
    scenarios::pause_and_resume(place).await;
}

#[tokio::test]
async fn watch() {
    let Some(place) = Place::mysql() else {
        return;
    };
    scenarios::watch(place).await;
}

#[tokio::test]
async fn terminal() {
    let Some(place) = Place::mysql() else {
        return;
    };
    scenarios::terminal(place).await;
}

/// The test URL with `password` put in its user info, and `scheme` for its scheme.
fn with_password(url: &str, scheme: &str, password: &str) -> String {
    let (_, rest) = url.split_once("://").expect("a URL");
    let (userinfo, host) = rest.rsplit_once('@').unwrap_or(("root", rest));
    let user = userinfo.split(':').next().unwrap_or("root");
    format!("{scheme}://{user}:{password}@{host}")
}

#[tokio::test]
async fn mariadb_urls_work_too() {
    let Some(place) = Place::mysql() else {
        return;
    };
    let url = place.url.replacen("mysql:", "mariadb:", 1);
    let cli = support::Cli {
        queue_args: vec![
            "--url".into(),
            url.clone(),
            "--table".into(),
            place.table.clone(),
        ],
    };
    cli.run(&["stats"]).fails(1, "no queue at mariadb://");
    let migrated = cli.json(&["migrate"]);
    assert_eq!(migrated["backend"], "mysql", "{migrated}");
    let stats = cli.json(&["stats"]);
    assert_eq!(stats["pending"], 0, "{stats}");
    let queue = place.open().await;
    place.cleanup(queue).await;
}

#[tokio::test]
async fn passwords_never_show_in_output_or_errors() {
    let Some(place) = Place::mysql() else {
        return;
    };
    const SECRET: &str = "s3cret-Pw";
    // Unlike the Postgres test server, MySQL checks the password: a wrong one is refused.
    let url = with_password(&place.url, "mysql", SECRET);
    let cli = support::Cli {
        queue_args: vec![
            "--url".into(),
            url.clone(),
            "--table".into(),
            place.table.clone(),
        ],
    };
    for run in [
        cli.run(&["stats"])
            .fails(1, "(check the user and password in the URL)"),
        cli.run(&["migrate"]).fails(1, "cannot connect to MySQL at"),
        cli.run(&["list", "--json"]).fails(1, "Access denied"),
    ] {
        assert!(!format!("{run:?}").contains(SECRET), "{run:#?}");
    }

    // A database that does not exist: the server's error, with a hint.
    let (base, _) = place.url.rsplit_once('/').expect("a database in the URL");
    let missing = support::Cli {
        queue_args: vec!["--url".into(), format!("{base}/queuectl_no_such_db")],
    };
    missing
        .run(&["stats"])
        .fails(1, "Unknown database 'queuectl_no_such_db' (create it");

    // Nothing listens on port 1.
    let refused = support::Cli {
        queue_args: vec![
            "--url".into(),
            format!("mariadb://root:{SECRET}@127.0.0.1:1/test"),
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
        queue_args: vec!["--url".into(), format!("mysql://u:{SECRET}@h:99999999/db")],
    };
    let run = bad.run(&["stats"]).fails(2, "bad MySQL URL");
    assert!(!format!("{run:?}").contains(SECRET), "{run:#?}");
}

#[tokio::test]
async fn serve() {
    let Some(place) = Place::mysql() else {
        return;
    };
    scenarios::serve(place).await;
}
