//! Every command against a SQL queue, the same for SQLite, Postgres and MySQL: each scenario
//! sets up its jobs through the queue crate, runs the binary, and checks both what it
//! printed and what it changed.

use std::time::Duration;

use queue_core::{Browsable, JobState, Queue};
use serde_json::Value;

use super::*;

/// `migrate` creates the table and says which versions it applied; other commands refuse
/// a table that does not exist rather than create it.
pub async fn migrate_and_missing_tables(place: Place) {
    let cli = place.cli();
    cli.run(&["stats"])
        .fails(1, "run `queuectl migrate` to create it");
    cli.run(&["enqueue", "k", "1"]).fails(1, "no queue at");

    let first = cli.json(&["migrate"]);
    assert_eq!(first["table"], place.table.as_str(), "{first}");
    assert_eq!(first["found"], serde_json::json!([]), "{first}");
    let applied = first["applied"].as_array().cloned().unwrap_or_default();
    assert!(!applied.is_empty(), "{first}");
    assert_eq!(first["version"], applied[applied.len() - 1], "{first}");

    let again = cli.json(&["migrate"]);
    assert_eq!(again["found"], Value::Array(applied.clone()), "{again}");
    assert_eq!(again["applied"], serde_json::json!([]), "{again}");
    assert_eq!(again["version"], first["version"], "{again}");

    let text = cli.run(&["migrate"]).ok().stdout;
    assert!(text.contains("applied: none (up to date)"), "{text}");
    assert!(text.contains(&format!("(table {})", place.table)), "{text}");

    let stats = cli.json(&["stats"]);
    assert_eq!(stats["pending"], 0, "{stats}");
    let queue = place.open().await;
    place.cleanup(queue).await;
}

/// `enqueue` with every option, from an argument and from stdin; `get`, `stats` and
/// `list` with filters and the cursor.
pub async fn enqueue_get_stats_list(place: Place) {
    let queue = place.open().await;
    let cli = place.cli();

    let delayed = cli.json(&[
        "enqueue",
        "report",
        r#"{"day":"2026-11-29"}"#,
        "--delay",
        "2h",
        "--priority",
        "-5",
        "--max-attempts",
        "7",
    ]);
    assert_eq!(delayed["enqueued"], true, "{delayed}");
    let delayed = id_of(&delayed);
    let job = queue.get_job(delayed).await.unwrap().expect("enqueued");
    assert_eq!(
        (job.kind.as_str(), job.priority, job.max_attempts),
        ("report", -5, 7)
    );
    assert!(
        job.scheduled_at - job.created_at >= time::Duration::minutes(119),
        "{job:?}"
    );

    // Plain text output is the id alone, for `id=$(queuectl enqueue …)`.
    let out = cli
        .run_with_stdin(
            &["enqueue", "email", "-"],
            "{\"to\": [\"a@example.com\"]}\n",
        )
        .ok()
        .stdout;
    let email: JobId = out
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("{e}: {out:?}"));
    let job = queue.get_job(email).await.unwrap().expect("enqueued");
    assert_eq!(job.payload, serde_json::json!({"to": ["a@example.com"]}));

    // A held unique key gives the holder's id back and adds nothing.
    let first = cli.json(&["enqueue", "sync", "{}", "--unique", "sync:all"]);
    let second = cli
        .run(&["enqueue", "sync", "{}", "--unique", "sync:all"])
        .ok();
    assert_eq!(second.stdout.trim(), id_of(&first).to_string());
    assert!(second.stderr.contains("nothing was added"), "{second:#?}");
    let third = cli.json(&[
        "enqueue",
        "sync",
        "{}",
        "--unique",
        "sync:all",
        "--unique-for",
        "1h",
    ]);
    assert_eq!(
        (id_of(&third), &third["enqueued"]),
        (id_of(&first), &Value::Bool(false))
    );

    cli.run(&["enqueue", "k", "{not json"]).fails(2, "not JSON");
    cli.run(&["enqueue", " k", "1"])
        .fails(2, "surrounding spaces");
    cli.run(&["enqueue", "k", "1", "--delay", "soon"])
        .fails(2, "30s");
    cli.run(&["enqueue", "k", "1", "--unique-for", "1h"])
        .fails(2, "--unique");

    let got = cli.json(&["get", &delayed.to_string()]);
    assert_eq!(got["id"], delayed.to_string());
    assert_eq!(got["kind"], "report");
    assert_eq!(got["state"], "pending");
    assert_eq!(got["payload"], serde_json::json!({"day": "2026-11-29"}));
    let text = cli.run(&["get", &delayed.to_string()]).ok().stdout;
    assert!(text.contains("attempts  0 of 7"), "{text}");
    assert!(
        text.contains("payload:\n{\n  \"day\": \"2026-11-29\"\n}"),
        "{text}"
    );
    cli.run(&["get", &JobId::new().to_string()])
        .fails(1, "no job with id");
    cli.run(&["get", "12345"]).fails(2, "ULID");

    let stats = cli.json(&["stats"]);
    assert_eq!(
        (&stats["pending"], &stats["running"], &stats["paused"]),
        (&Value::from(3), &Value::from(0), &serde_json::json!([])),
        "{stats}"
    );
    let text = cli.run(&["stats"]).ok().stdout;
    assert!(
        text.starts_with("STATE      JOBS\npending       3\n"),
        "{text}"
    );

    // Pages of two, newest first, joined by the printed cursor.
    failed(&queue, "bounce").await;
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut args = vec!["list", "--limit", "2"];
        if let Some(c) = &cursor {
            args.extend(["--before", c.as_str()]);
        }
        let page = cli.json(&args);
        let jobs = page["jobs"].as_array().cloned().unwrap_or_default();
        assert!(jobs.len() <= 2, "{page}");
        seen.extend(jobs.iter().map(id_of));
        match page["next_before"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
        assert!(seen.len() < 10, "the cursor does not move: {page}");
    }
    let mut newest_first = seen.clone();
    newest_first.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, newest_first);
    assert_eq!(seen.len(), 4, "{seen:?}");

    let emails = cli.json(&["list", "--kind", "email"]);
    assert_eq!(emails["jobs"].as_array().map(Vec::len), Some(1), "{emails}");
    let bounced = cli.json(&["list", "--kind", "bounce", "--state", "failed"]);
    let jobs = bounced["jobs"].as_array().cloned().unwrap_or_default();
    assert_eq!(jobs.len(), 1, "{bounced}");
    assert_eq!(jobs[0]["last_error"], "boom");
    assert_eq!(bounced["next_before"], Value::Null);
    let none = cli.json(&["list", "--kind", "email", "--state", "failed"]);
    assert_eq!(none["jobs"], serde_json::json!([]), "{none}");

    let text = cli.run(&["list", "--limit", "1"]).ok().stdout;
    assert!(text.starts_with("ID "), "{text}");
    assert!(
        text.contains("next page: queuectl list --limit 1 --before "),
        "{text}"
    );
    let none = cli.run(&["list", "--kind", "nothing"]).ok().stdout;
    assert_eq!(none, "no jobs match\n");
    cli.run(&["list", "--state", "done"])
        .fails(2, "pending, running");
    cli.run(&["list", "--limit", "0"]).fails(2, "--limit");

    place.cleanup(queue).await;
}

/// `cancel`, `run-now`, `delete` and `replay` of one job, and their refusals, which say
/// why and what to do instead.
pub async fn single_job_actions(place: Place) {
    let queue = place.open().await;
    let cli = place.cli();
    let unknown = JobId::new().to_string();

    // run-now: a delayed job becomes due; again, it is due already.
    let later = cli.json(&["enqueue", "later", "1", "--delay", "1h"]);
    let later = id_of(&later).to_string();
    let moved = cli.json(&["run-now", &later]);
    assert_eq!(moved["outcome"], "due_now", "{moved}");
    let job = queue.get_job(id_of(&moved)).await.unwrap().expect("job");
    assert!(
        job.scheduled_at <= time::OffsetDateTime::now_utc(),
        "{job:?}"
    );
    let again = cli.run(&["run-now", &later]).ok().stdout;
    assert!(again.contains("is due already"), "{again}");
    cli.run(&["run-now", &unknown]).fails(1, "no job with id");

    // A running job: cancel asks its worker; delete and run-now refuse.
    let running = running(&queue, "busy").await.id.to_string();
    cli.run(&["delete", &running]).fails(
        1,
        "is running, and only finished jobs are deleted (cancel it first",
    );
    cli.run(&["run-now", &running])
        .fails(1, "is running, not pending");
    cli.run(&["replay", &running])
        .fails(1, "is running, not failed");
    let asked = cli.json(&["cancel", &running]);
    assert_eq!(asked["outcome"], "requested", "{asked}");
    let job = queue.get_job(id_of(&asked)).await.unwrap().expect("job");
    assert!(
        job.cancel_requested && job.state == JobState::Running,
        "{job:?}"
    );

    // A pending job is cancelled at once; a second cancel has nothing to do.
    let waiting = pending(&queue, "idle").await.to_string();
    let text = cli.run(&["cancel", &waiting]).ok().stdout;
    assert!(text.contains("will never run"), "{text}");
    cli.run(&["cancel", &waiting])
        .fails(1, "is cancelled already");
    cli.run(&["cancel", &unknown]).fails(1, "no job with id");

    // replay: a failed job runs again, once.
    let dead = failed(&queue, "flaky").await.to_string();
    let replayed = cli.json(&["replay", &dead]);
    assert_eq!(replayed["outcome"], "replayed", "{replayed}");
    let job = queue.get_job(id_of(&replayed)).await.unwrap().expect("job");
    assert_eq!((job.state, job.attempts), (JobState::Pending, 0), "{job:?}");
    cli.run(&["replay", &dead])
        .fails(1, "is pending, not failed");
    cli.run(&["replay", &unknown]).fails(1, "no job with id");
    cli.run(&["replay"]).fails(2, "--all-failed");
    cli.run(&["replay", &dead, "--all-failed"])
        .fails(2, "cannot be used with");
    cli.run(&["replay", "--kind", "x"]).fails(2, "--all-failed");

    // delete: finished jobs only; afterwards it is gone.
    let done = completed(&queue, "done").await.to_string();
    let deleted = cli.json(&["delete", &done]);
    assert_eq!(deleted["outcome"], "deleted", "{deleted}");
    assert!(queue.get_job(id_of(&deleted)).await.unwrap().is_none());
    cli.run(&["delete", &done]).fails(1, "no job with id");
    cli.run(&["delete", &waiting]).ok();
    cli.run(&["delete", &later])
        .fails(1, "is pending, and only finished jobs are deleted");

    place.cleanup(queue).await;
}

/// `replay --all-failed`, with and without a kind, over several batches.
pub async fn bulk_replay(place: Place) {
    let queue = place.open().await;
    let cli = place.cli();
    let mut emails = Vec::new();
    for _ in 0..5 {
        emails.push(failed(&queue, "email").await);
    }
    let sms = failed(&queue, "sms").await;
    let other = failed(&queue, "push").await;

    let done = cli.json(&["replay", "--all-failed", "--kind", "email", "--batch", "2"]);
    assert_eq!(
        (&done["replayed"], &done["skipped"]),
        (&Value::from(5), &Value::from(0))
    );
    for id in &emails {
        let job = queue.get_job(*id).await.unwrap().expect("job");
        assert_eq!(job.state, JobState::Pending, "{job:?}");
    }
    assert_eq!(queue.stats().await.unwrap().failed, 2);

    let text = cli.run(&["replay", "--all-failed"]).ok().stdout;
    assert_eq!(text, "replayed 2 failed jobs\n");
    for id in [sms, other] {
        let job = queue.get_job(id).await.unwrap().expect("job");
        assert_eq!(job.state, JobState::Pending, "{job:?}");
    }
    let none = cli.json(&["replay", "--all-failed"]);
    assert_eq!(none["replayed"], 0, "{none}");

    place.cleanup(queue).await;
}

/// `purge` by state and age, in batches, without a prompt when stdin is not a terminal;
/// refusing states jobs never finish in.
pub async fn purge(place: Place) {
    let queue = place.open().await;
    let cli = place.cli();
    for _ in 0..5 {
        completed(&queue, "done").await;
    }
    let kept_failed = failed(&queue, "dead").await;
    let kept_pending = pending(&queue, "waiting").await;

    let young = cli.json(&["purge", "--state", "completed", "--older-than", "1h"]);
    assert_eq!(young["deleted"], 0, "{young}");
    assert_eq!(young["older_than_secs"], 3600, "{young}");
    assert_eq!(queue.stats().await.unwrap().completed, 5);

    wait_until_older(&queue, JobState::Completed, Duration::from_millis(1)).await;
    let purged = cli.json(&[
        "purge",
        "--state",
        "completed",
        "--older-than",
        "1ms",
        "--batch",
        "2",
    ]);
    assert_eq!(
        (&purged["state"], &purged["deleted"]),
        (&Value::from("completed"), &Value::from(5))
    );
    let stats = queue.stats().await.unwrap();
    assert_eq!(
        (stats.completed, stats.failed, stats.pending),
        (0, 1, 1),
        "{stats:?}"
    );
    assert!(queue.get_job(kept_failed).await.unwrap().is_some());
    assert!(queue.get_job(kept_pending).await.unwrap().is_some());

    let text = cli
        .run(&["purge", "--state", "failed", "--older-than", "0s"])
        .ok()
        .stdout;
    assert_eq!(
        text,
        "deleted 1 failed jobs that finished more than 0s ago\n"
    );

    cli.run(&["purge", "--state", "pending", "--older-than", "1d"])
        .fails(2, "never purged");
    cli.run(&["purge", "--state", "failed"])
        .fails(2, "--older-than");
    place.cleanup(queue).await;
}

/// Waits (with a deadline) until every job in `state` finished longer ago than `age`.
async fn wait_until_older(queue: &SqlQueue, state: JobState, age: Duration) {
    let start = std::time::Instant::now();
    loop {
        let jobs = queue.list_jobs(Some(state), 1000).await.unwrap();
        let now = time::OffsetDateTime::now_utc();
        if jobs
            .iter()
            .all(|j| j.finished_at.is_some_and(|at| now - at > age))
        {
            return;
        }
        assert!(start.elapsed() < DEADLINE, "jobs never aged: {jobs:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// `pause`, `paused`, `resume`, and the pause in `stats`.
pub async fn pause_and_resume(place: Place) {
    let queue = place.open().await;
    let cli = place.cli();
    let paused = cli.json(&["pause", "email"]);
    assert_eq!(paused, serde_json::json!({"kind": "email", "paused": true}));
    cli.run(&["pause", "sms"]).ok();
    assert_eq!(queue.paused_kinds().await.unwrap(), ["email", "sms"]);
    assert_eq!(
        cli.json(&["paused"]),
        serde_json::json!({"paused": ["email", "sms"]})
    );
    assert_eq!(cli.run(&["paused"]).ok().stdout, "email\nsms\n");
    let stats = cli.run(&["stats"]).ok().stdout;
    assert!(
        stats.ends_with("paused kinds: email, sms\nlimited kinds: none\n"),
        "{stats}"
    );
    assert_eq!(cli.run(&["limit"]).ok().stdout, "no kind is limited\n");
    cli.run(&["limit", "email"]).fails(2, "--per-key");
    cli.run(&["limit", "email", "--concurrency", "0"])
        .fails(2, "at least 1");
    cli.run(&["limit", "email", "--rate", "5"])
        .fails(2, "COUNT/PERIOD");
    cli.run(&["limit", "--concurrency", "3"])
        .fails(2, "name the kind");
    let set = cli.json(&["limit", "email", "--per-key", "1", "--concurrency", "4"]);
    assert_eq!(
        set,
        serde_json::json!({"kind": "email", "limit": {"concurrency": 4, "key_concurrency": 1}})
    );
    assert_eq!(
        queue.limits().await.unwrap()["email"],
        queue_core::Limit::per_key(1).with_concurrency(4)
    );
    cli.run(&["limit", "sms", "--rate-per-key", "5/1s"]).ok();
    assert_eq!(
        cli.run(&["limit"]).ok().stdout,
        "KIND   LIMIT\nemail  4 at once, 1 per key at once\nsms    5 per key per 1s\n"
    );
    let stats = cli.run(&["stats"]).ok().stdout;
    assert!(
        stats.contains("LIMITED KIND  LIMIT")
            && stats.contains("\nemail         4 at once, 1 per key at once "),
        "{stats}"
    );
    let json = cli.json(&["stats"]);
    assert_eq!(
        json["limits"][0]["limit"],
        serde_json::json!({"concurrency": 4, "key_concurrency": 1})
    );
    assert_eq!(
        cli.json(&["limit", "email", "--clear"]),
        serde_json::json!({"kind": "email", "limit": null})
    );
    cli.run(&["limit", "sms", "--clear"]).ok();
    assert!(queue.limits().await.unwrap().is_empty());
    assert_eq!(cli.json(&["limit"]), serde_json::json!({"limits": {}}));

    let resumed = cli.json(&["resume", "email"]);
    assert_eq!(
        resumed,
        serde_json::json!({"kind": "email", "paused": false})
    );
    cli.run(&["resume", "sms"]).ok();
    assert!(queue.paused_kinds().await.unwrap().is_empty());
    assert_eq!(cli.run(&["paused"]).ok().stdout, "no kind is paused\n");
    cli.run(&["pause", " bad"]).fails(1, "surrounding spaces");
    place.cleanup(queue).await;
}

/// `watch` in a pipe: a line per sample (JSON or text), rates from the second sample on,
/// the oldest due job's wait, and a clean exit on SIGINT.
pub async fn watch(place: Place) {
    let queue = place.open().await;
    let cli = place.cli();
    pending(&queue, "email").await;
    queue.pause_kind("email").await.unwrap();

    let mut child = cli.spawn(&["watch", "--interval", "100ms", "--json"]);
    let lines = lines_of(&mut child);
    let first: Value = serde_json::from_str(&next_line(&lines)).unwrap();
    assert_eq!(first["pending"], 1, "{first}");
    assert_eq!(first["paused"], serde_json::json!(["email"]), "{first}");
    assert_eq!(first["rates"], Value::Null, "{first}");
    assert!(first["oldest_due"].is_string(), "{first}");
    assert!(
        first["lag_secs"].as_f64().is_some_and(|s| s >= 0.0),
        "{first}"
    );
    for state in ["running", "completed", "failed", "cancelled"] {
        assert_eq!(first[state], 0, "{first}");
    }
    pending(&queue, "email").await;
    // Samples keep coming; one taken after the enqueue shows it and a rate.
    let start = std::time::Instant::now();
    loop {
        let sample: Value = serde_json::from_str(&next_line(&lines)).unwrap();
        assert!(sample["rates"]["pending"].is_number(), "{sample}");
        if sample["pending"] == 2 {
            break;
        }
        assert!(
            start.elapsed() < DEADLINE,
            "the enqueue never showed: {sample}"
        );
    }
    assert_eq!(interrupt(child), 0);

    let mut child = cli.spawn(&["watch", "--interval", "100ms"]);
    let lines = lines_of(&mut child);
    let first = next_line(&lines);
    assert!(first.contains(" pending=2 running=0 "), "{first}");
    assert!(first.ends_with(" paused=email"), "{first}");
    let second = next_line(&lines);
    assert!(second.contains(" pending=2 (0/s) "), "{second}");
    assert_eq!(interrupt(child), 0);

    cli.run(&["watch", "--interval", "0s"])
        .fails(2, "longer than zero");
    place.cleanup(queue).await;
}

/// On a terminal: `purge` asks first (and deletes nothing when told no), progress bars
/// draw on stderr, and `watch` redraws in place.
pub async fn terminal(place: Place) {
    let queue = place.open().await;
    let shell = |args: &str| {
        format!(
            "{} --url '{}' --table {} {args}",
            env!("CARGO_BIN_EXE_queuectl"),
            place.url,
            place.table
        )
    };
    for _ in 0..3 {
        completed(&queue, "done").await;
    }
    let no = run_in_terminal(&shell("purge --state completed --older-than 0s"), "n\n");
    assert_eq!(no.code, 1, "{no:#?}");
    assert!(
        no.stdout
            .contains("Delete the completed jobs that finished more than 0s ago from"),
        "{no:#?}"
    );
    assert!(
        no.stdout.contains("(3 completed jobs in all) [y/N]"),
        "{no:#?}"
    );
    assert!(
        no.stdout.contains("not confirmed, nothing deleted"),
        "{no:#?}"
    );
    assert_eq!(queue.stats().await.unwrap().completed, 3);

    let yes = run_in_terminal(&shell("purge --state completed --older-than 0s"), "y\n");
    assert_eq!(yes.code, 0, "{yes:#?}");
    assert!(yes.stdout.contains("deleted 3 completed jobs"), "{yes:#?}");
    assert_eq!(queue.stats().await.unwrap().completed, 0);

    failed(&queue, "dead").await;
    let replay = run_in_terminal(&shell("replay --all-failed"), "");
    assert_eq!(replay.code, 0, "{replay:#?}");
    assert!(
        replay.stdout.contains("replayed 1 failed jobs"),
        "{replay:#?}"
    );

    let watch = run_in_terminal(&shell("watch --interval 100ms --count 3"), "");
    assert_eq!(watch.code, 0, "{watch:#?}");
    assert!(
        watch.stdout.contains("every 100ms, Ctrl-C to stop"),
        "{watch:#?}"
    );
    assert!(watch.stdout.contains("\x1b[2K"), "{watch:#?}");
    // Redrawn: the cursor moves up over the previous drawing.
    assert!(watch.stdout.contains("\x1b[10A"), "{watch:#?}");
    place.cleanup(queue).await;
}

/// One HTTP/1.1 request to the server at `addr`; returns the status and the body.
fn http(addr: &str, method: &str, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).expect("connect to queuectl serve");
    stream.set_read_timeout(Some(DEADLINE)).unwrap();
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("Content-Length: 0\r\n\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let response = String::from_utf8_lossy(&response).into_owned();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {response}"));
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// The decoded body of a chunked HTTP/1.1 response (what axum sends for JSON).
fn unchunk(body: &str) -> String {
    if !body.contains("\r\n") {
        return body.to_owned();
    }
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            return body.to_owned();
        };
        if n == 0 {
            break;
        }
        out.push_str(&after[..n]);
        rest = after[n..].trim_start_matches("\r\n");
    }
    out
}

/// `serve`: the dashboard and its API behind the token, the gauges at /metrics, CSRF on
/// actions, and a clean stop at Ctrl-C.
pub async fn serve(place: Place) {
    let queue = place.open().await;
    let cli = place.cli();
    let failed_id = failed(&queue, "email").await;
    pending(&queue, "email").await;

    let refused = cli.run(&["serve", "--bind", "0.0.0.0:0"]);
    let refused = refused.fails(1, "without authentication");
    assert!(refused.stderr.contains("loopback"), "{}", refused.stderr);

    let mut child = cli.spawn(&[
        "serve",
        "--bind",
        "127.0.0.1:0",
        "--token",
        "s3cret",
        "--gauges-every",
        "100ms",
    ]);
    let lines = lines_of(&mut child);
    let first = next_line(&lines);
    let addr = first
        .strip_prefix("listening on http://")
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .to_owned();
    let auth = [("Authorization", "Bearer s3cret")];

    assert_eq!(http(&addr, "GET", "/api/stats", &[]).0, 401);
    assert_eq!(
        http(
            &addr,
            "GET",
            "/api/stats",
            &[("Authorization", "Bearer wrong")]
        )
        .0,
        401
    );
    let (status, body) = http(&addr, "GET", "/api/stats", &auth);
    assert_eq!(status, 200, "{body}");
    let stats: Value = serde_json::from_str(&unchunk(&body)).unwrap();
    assert_eq!(
        (&stats["pending"], &stats["failed"]),
        (&serde_json::json!(1), &serde_json::json!(1)),
        "{stats}"
    );

    let (status, page) = http(&addr, "GET", "/", &auth);
    assert_eq!(status, 200);
    assert!(unchunk(&page).contains("<html"), "{page}");

    // Actions need the CSRF token as well as the credentials.
    let replay = format!("/api/jobs/{failed_id}/replay");
    assert_eq!(http(&addr, "POST", &replay, &auth).0, 403);
    let (_, body) = http(&addr, "GET", "/api/csrf", &auth);
    let csrf: Value = serde_json::from_str(&unchunk(&body)).unwrap();
    let token = csrf["token"].as_str().unwrap_or_else(|| panic!("{csrf}"));
    let (status, body) = http(&addr, "POST", &replay, &[auth[0], ("x-csrf-token", token)]);
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        queue.get_job(failed_id).await.unwrap().unwrap().state,
        JobState::Pending
    );

    // This process runs no worker: /metrics holds the sampled gauges of the queue.
    let start = std::time::Instant::now();
    loop {
        let (status, body) = http(&addr, "GET", "/metrics", &auth);
        assert_eq!(status, 200);
        let body = unchunk(&body);
        if body.contains(&format!(
            "queue_jobs{{queue=\"{}\",state=\"pending\"}} 2",
            place.table
        )) {
            assert!(body.contains("queue_oldest_due_age_seconds"), "{body}");
            break;
        }
        assert!(start.elapsed() < DEADLINE, "no gauges in /metrics: {body}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(interrupt(child), 0);
    place.cleanup(queue).await;
}
