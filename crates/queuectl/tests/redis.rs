//! The binary against Redis (`REDIS_URL`, else the local default; `QUEUE_SKIP_SERVERS=1`
//! skips), in a queue of its own: the commands whose Redis side differs from SQL (no
//! schema, a queue name instead of a table), and errors without the password.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use queue_core::{Browsable, JobState};
use queue_redis::RedisQueue;
use support::{fresh_name, redis_url, skip_servers, Cli};

#[tokio::test]
async fn commands_work_on_a_named_queue() {
    if skip_servers() {
        return;
    }
    let name = fresh_name();
    let url = redis_url();
    let queue = RedisQueue::builder(&name)
        .url(&url)
        .build()
        .await
        .unwrap_or_else(|e| {
            panic!("Redis is not reachable at {url}: {e}; start it or set QUEUE_SKIP_SERVERS=1")
        });
    let cli = Cli {
        queue_args: vec!["--url".into(), url.clone(), "--queue".into(), name.clone()],
    };

    let migrated = cli.json(&["migrate"]);
    assert_eq!(
        migrated,
        serde_json::json!({"backend": "redis", "queue": name, "found": [], "applied": [], "version": null})
    );
    assert!(cli
        .run(&["migrate"])
        .ok()
        .stdout
        .contains("Redis keeps no schema"));

    let id = support::id_of(&cli.json(&["enqueue", "email", r#"{"to":"a"}"#, "--priority", "2"]));
    let job = queue.get_job(id).await.unwrap().expect("enqueued");
    assert_eq!((job.kind.as_str(), job.priority), ("email", 2));
    assert_eq!(cli.json(&["get", &id.to_string()])["payload"]["to"], "a");
    assert_eq!(cli.json(&["stats"])["pending"], 1);
    cli.json(&["pause", "email"]);
    assert_eq!(
        cli.json(&["paused"])["paused"],
        serde_json::json!(["email"])
    );
    cli.json(&["resume", "email"]);
    assert_eq!(
        cli.json(&["cancel", &id.to_string()])["outcome"],
        "cancelled"
    );
    assert_eq!(
        queue.get_job(id).await.unwrap().map(|j| j.state),
        Some(JobState::Cancelled)
    );
    let failed = support::failed(&queue, "sms").await;
    assert_eq!(cli.json(&["replay", "--all-failed"])["replayed"], 1);
    assert_eq!(
        queue.get_job(failed).await.unwrap().map(|j| j.state),
        Some(JobState::Pending)
    );
    let listed = cli.json(&["list"]);
    assert_eq!(listed["jobs"].as_array().map(Vec::len), Some(2), "{listed}");
    let sample = cli.json(&["watch", "--count", "1"]);
    assert_eq!(
        (&sample["pending"], &sample["cancelled"]),
        (&1.into(), &1.into()),
        "{sample}"
    );

    let later = support::id_of(&cli.json(&["enqueue", "later", "1", "--delay", "1h"]));
    assert_eq!(
        cli.json(&["run-now", &later.to_string()])["outcome"],
        "due_now"
    );
    cli.run(&["delete", &later.to_string()])
        .fails(1, "is pending");
    assert_eq!(cli.json(&["delete", &id.to_string()])["outcome"], "deleted");
    support::completed(&queue, "done").await;
    let purged = cli.json(&["purge", "--state", "completed", "--older-than", "0s"]);
    assert_eq!(purged["deleted"], 1, "{purged}");

    cli.run(&["--table", "t", "stats"])
        .fails(2, "--table is for SQL");
    queue.drop_all().await.unwrap();
}

#[test]
fn refused_connections_say_where_without_the_password() {
    let cli = Cli {
        queue_args: vec![
            "--url".into(),
            "redis://:s3cret-Pw@127.0.0.1:1".into(),
            "--queue".into(),
            "q".into(),
        ],
    };
    let run = cli.run(&["stats"]).fails(1, "127.0.0.1:1");
    assert!(!format!("{run:?}").contains("s3cret-Pw"), "{run:#?}");
}
