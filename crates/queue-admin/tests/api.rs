//! The JSON API and the page, against every backend: one test body, run once per backend.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use queue_core::{Backend, Completion, Job, JobId, JobState};
use serde_json::{json, Value};
use support::backends::{run, Kind};
use support::client::Api;

#[tokio::test]
async fn api_on_memory() {
    run(Kind::Memory, suite).await;
}

#[tokio::test]
async fn api_on_sqlite() {
    run(Kind::Sqlite, suite).await;
}

#[tokio::test]
async fn api_on_postgres() {
    run(Kind::Postgres, suite).await;
}

#[tokio::test]
async fn api_on_redis() {
    run(Kind::Redis, suite).await;
}

/// Every endpoint, its errors, pagination, escaping and CSRF, on `backend`.
async fn suite(backend: Arc<dyn Backend>) {
    let api = Api::new(queue_admin::router(backend.clone())).await;
    let seed = Seed::plant(backend.as_ref()).await;
    queues_and_stats(&api).await;
    lists(&api, &seed).await;
    pagination(&api, &seed).await;
    one_job(&api, &seed).await;
    page(&api, &seed).await;
    csrf(&api, &seed).await;
    actions(&api, &seed).await;
    bulk_replay(&api, backend.as_ref()).await;
    purge(&api).await;
    pause(&api).await;
    limits(&api, backend.as_ref()).await;
    routes(&api, &seed).await;
}

/// One job in each state, with markup in the places a page shows.
struct Seed {
    completed: JobId,
    failed: JobId,
    running: JobId,
    later: JobId,
    due: JobId,
    cancelled: JobId,
}

const SCRIPT: &str = "<script>alert(1)</script>";
const ODD_KIND: &str = "<i>odd</i>";
const ERROR: &str = "card declined: <img src=x onerror=alert(1)>";

impl Seed {
    async fn plant(q: &dyn Backend) -> Seed {
        let completed = q
            .enqueue(Job::new("email", json!({ "to": SCRIPT })))
            .await
            .unwrap();
        let job = q.dequeue(&["email"]).await.unwrap().unwrap();
        let done =
            Completion::with_output(job.lease().unwrap(), &json!({"sent": "<b>yes</b>"})).unwrap();
        for r in q.complete_batch(&[done]).await.unwrap() {
            r.unwrap();
        }

        let failed = fail(q, "billing").await;

        let running = q.enqueue(Job::new("slow", json!({}))).await.unwrap();
        assert_eq!(q.dequeue(&["slow"]).await.unwrap().unwrap().id, running);

        let later = q
            .enqueue(Job::new("report", json!({})).delay(Duration::from_secs(3600)))
            .await
            .unwrap();
        let due = q
            .enqueue(Job::new("email", json!({"to": "b@example.com"})))
            .await
            .unwrap();
        let cancelled = q.enqueue(Job::new(ODD_KIND, json!({}))).await.unwrap();
        assert!(q.cancel(cancelled).await.unwrap().is_accepted());
        Seed {
            completed,
            failed,
            running,
            later,
            due,
            cancelled,
        }
    }

    /// Every id, newest first.
    fn all(&self) -> Vec<String> {
        [
            self.cancelled,
            self.due,
            self.later,
            self.running,
            self.failed,
            self.completed,
        ]
        .iter()
        .map(JobId::to_string)
        .collect()
    }
}

/// A failed job of `kind`: one attempt, failed with [`ERROR`].
async fn fail(q: &dyn Backend, kind: &str) -> JobId {
    let id = q
        .enqueue(Job::new(kind, json!({"n": 1})).max_attempts(1))
        .await
        .unwrap();
    let job = q.dequeue(&[kind]).await.unwrap().unwrap();
    assert_eq!(job.id, id);
    q.nack(&job.lease().unwrap(), ERROR).await.unwrap();
    id
}

fn ids(reply: &Value) -> Vec<String> {
    reply["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn queues_and_stats(api: &Api) {
    let queues = api.get("/api/queues").await.expect(200).json();
    assert_eq!(queues, json!({"queues": ["default"]}));

    let stats = api.get("/api/stats").await.expect(200).json();
    assert_eq!(stats["queue"], "default");
    for (state, n) in [
        ("pending", 2),
        ("running", 1),
        ("completed", 1),
        ("failed", 1),
        ("cancelled", 1),
    ] {
        assert_eq!(stats[state], n, "{state}: {stats}");
    }
    assert_eq!(stats["paused"], json!([]));
    assert_eq!(stats["limits"], json!([]));
    assert!(stats["oldest_due"].is_string(), "{stats}");
    assert!(stats["lag_seconds"].as_f64().unwrap() >= 0.0);

    let named = api.get("/api/stats?queue=default").await.expect(200).json();
    assert_eq!(named["pending"], 2);
    assert_eq!(
        api.get("/api/stats?queue=nope").await.expect(404).code(),
        "unknown_queue"
    );
}

async fn lists(api: &Api, seed: &Seed) {
    let all = api.get("/api/jobs").await.expect(200).json();
    assert_eq!(ids(&all), seed.all(), "newest first");
    assert_eq!(all["next"], Value::Null);
    assert!(
        all["jobs"][0].get("payload").is_none(),
        "lists leave payloads out"
    );

    let failed = api.get("/api/jobs?state=failed").await.expect(200).json();
    assert_eq!(ids(&failed), [seed.failed.to_string()]);
    assert_eq!(failed["jobs"][0]["kind"], "billing");
    assert_eq!(failed["jobs"][0]["state"], "failed");
    assert_eq!(failed["jobs"][0]["last_error"], ERROR);

    let email = api.get("/api/jobs?kind=email").await.expect(200).json();
    assert_eq!(
        ids(&email),
        [seed.due.to_string(), seed.completed.to_string()]
    );

    let both = api
        .get("/api/jobs?state=pending&kind=email")
        .await
        .expect(200)
        .json();
    assert_eq!(ids(&both), [seed.due.to_string()]);

    let odd = format!("/api/jobs?kind={}", "%3Ci%3Eodd%3C%2Fi%3E");
    assert_eq!(
        ids(&api.get(&odd).await.expect(200).json()),
        [seed.cancelled.to_string()]
    );

    let none = api.get("/api/jobs?kind=nothing").await.expect(200).json();
    assert_eq!(none, json!({"jobs": [], "next": null}));

    // Empty values are absent values, as an empty form field sends them.
    let empty = api
        .get("/api/jobs?state=&kind=&before=")
        .await
        .expect(200)
        .json();
    assert_eq!(ids(&empty), seed.all());

    for bad in [
        "/api/jobs?limit=abc",
        "/api/jobs?limit=-1",
        "/api/jobs?state=bogus",
        "/api/jobs?before=not-an-id",
    ] {
        let reply = api.get(bad).await.expect(400);
        assert_eq!(reply.code(), "invalid_request", "{bad}");
    }
    // Over the cap is capped, not refused.
    let capped = api.get("/api/jobs?limit=100000").await.expect(200).json();
    assert_eq!(ids(&capped), seed.all());
}

async fn pagination(api: &Api, seed: &Seed) {
    for limit in [1, 2, 3, 4, 6, 7] {
        let mut seen = Vec::new();
        let mut pages = 0;
        let mut before = String::new();
        loop {
            let reply = api
                .get(&format!("/api/jobs?limit={limit}&before={before}"))
                .await
                .expect(200)
                .json();
            pages += 1;
            let page = ids(&reply);
            assert!(page.len() <= limit);
            seen.extend(page.clone());
            match reply["next"].as_str() {
                Some(next) => {
                    assert_eq!(page.last().map(String::as_str), Some(next));
                    before = next.to_owned();
                }
                None => break,
            }
            assert!(pages < 10, "paging does not end");
        }
        assert_eq!(seen, seed.all(), "limit {limit}");
        assert_eq!(
            pages,
            seed.all().len().div_ceil(limit),
            "limit {limit}: no empty last page"
        );
    }
    let older = api
        .get(&format!("/api/jobs?state=pending&before={}", seed.due))
        .await
        .expect(200)
        .json();
    assert_eq!(ids(&older), [seed.later.to_string()]);
}

async fn one_job(api: &Api, seed: &Seed) {
    let done = api
        .get(&format!("/api/jobs/{}", seed.completed))
        .await
        .expect(200)
        .json();
    assert_eq!(done["id"], seed.completed.to_string());
    assert_eq!(done["kind"], "email");
    assert_eq!(done["state"], "completed");
    assert_eq!(done["payload"], json!({ "to": SCRIPT }));
    assert_eq!(done["output"], json!({"sent": "<b>yes</b>"}));
    assert_eq!(done["attempts"], 1);
    assert_eq!(done["max_attempts"], 3);
    assert!(done["finished_at"].is_string(), "{done}");
    assert!(done["created_at"].is_string() && done["scheduled_at"].is_string());
    assert_eq!(done["lease"], Value::Null);

    let failed = api
        .get(&format!("/api/jobs/{}", seed.failed))
        .await
        .expect(200)
        .json();
    assert_eq!(failed["last_error"], ERROR);
    assert_eq!(failed["attempts"], 1);

    let running = api
        .get(&format!("/api/jobs/{}", seed.running))
        .await
        .expect(200)
        .json();
    assert_eq!(running["state"], "running");
    assert!(running["lease"]["expires_at"].is_string(), "{running}");
    assert_eq!(running["finished_at"], Value::Null);

    let unknown = api
        .get(&format!("/api/jobs/{}", JobId::new()))
        .await
        .expect(404);
    assert_eq!(unknown.code(), "not_found");
    assert_eq!(
        api.get("/api/jobs/nope").await.expect(400).code(),
        "invalid_request"
    );
}

async fn page(api: &Api, seed: &Seed) {
    let home = api.get("/").await.expect(200);
    assert_eq!(home.header("content-type"), "text/html; charset=utf-8");
    assert!(home
        .header("content-security-policy")
        .contains("script-src 'self'"));
    let html = home.text();
    assert!(html.contains(r#"data-count="failed">1<"#), "{html}");
    assert!(html.contains(r#"data-count="pending">2<"#));
    assert!(html.contains(&format!(
        r#"<meta name="csrf-token" content="{}">"#,
        api.csrf
    )));
    // The odd kind and the error are text, not markup.
    assert!(html.contains("&lt;i&gt;odd&lt;/i&gt;"));
    assert!(!html.contains(ODD_KIND));
    assert!(html.contains("card declined: &lt;img src=x onerror=alert(1)&gt;"));
    assert!(!html.contains("<img src=x"));
    for id in seed.all() {
        assert!(html.contains(&format!("?job={id}")), "a link to {id}");
    }

    let failed = api.get("/?state=failed").await.expect(200).text();
    assert!(failed.contains(&seed.failed.to_string()));
    assert!(!failed.contains(&seed.completed.to_string()));
    assert!(
        failed.contains("api/replay-failed"),
        "the bulk replay button"
    );

    let detail = api
        .get(&format!("/?job={}", seed.completed))
        .await
        .expect(200)
        .text();
    assert!(
        detail.contains("&quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot;"),
        "{detail}"
    );
    assert!(!detail.contains("<script>alert"));
    assert!(detail.contains("&lt;b&gt;yes&lt;/b&gt;"));
    assert!(
        detail.contains(&format!(r#"data-url="api/jobs/{}""#, seed.completed)),
        "delete"
    );

    let failed_job = api
        .get(&format!("/?job={}", seed.failed))
        .await
        .expect(200)
        .text();
    assert!(failed_job.contains(&format!(r#"data-url="api/jobs/{}/replay""#, seed.failed)));
    assert!(failed_job.contains(r#"data-confirm="Replay this job?"#));

    let later = api
        .get(&format!("/?job={}", seed.later))
        .await
        .expect(200)
        .text();
    assert!(later.contains(&format!(r#"data-url="api/jobs/{}/run-now""#, seed.later)));

    api.get(&format!("/?job={}", JobId::new()))
        .await
        .expect(404);
    api.get("/?job=nope").await.expect(400);
    api.get("/?queue=nope").await.expect(404);
    api.get("/?state=bogus").await.expect(400);
}

async fn csrf(api: &Api, seed: &Seed) {
    let url = format!("/api/jobs/{}/replay", seed.failed);
    let no_token = axum::http::Request::post(&url)
        .body(axum::body::Body::empty())
        .unwrap();
    assert_eq!(api.send(no_token).await.expect(403).code(), "csrf");

    let wrong = axum::http::Request::post(&url)
        .header("x-csrf-token", "0".repeat(64))
        .body(axum::body::Body::empty())
        .unwrap();
    assert_eq!(api.send(wrong).await.expect(403).code(), "csrf");

    let cross = axum::http::Request::post(&url)
        .header("x-csrf-token", &api.csrf)
        .header("sec-fetch-site", "cross-site")
        .body(axum::body::Body::empty())
        .unwrap();
    assert_eq!(api.send(cross).await.expect(403).code(), "cross_site");

    let evil = axum::http::Request::delete(format!("/api/jobs/{}", seed.completed))
        .header("x-csrf-token", &api.csrf)
        .header("origin", "https://evil.example")
        .header("host", "ops.example")
        .body(axum::body::Body::empty())
        .unwrap();
    assert_eq!(api.send(evil).await.expect(403).code(), "cross_site");

    let pause = axum::http::Request::post("/api/kinds/email/pause")
        .body(axum::body::Body::empty())
        .unwrap();
    api.send(pause).await.expect(403);

    // Nothing of that happened.
    let stats = api.get("/api/stats").await.expect(200).json();
    assert_eq!(stats["failed"], 1);
    assert_eq!(stats["completed"], 1);
    assert_eq!(stats["paused"], json!([]));
}

async fn actions(api: &Api, seed: &Seed) {
    let job = |id: JobId| format!("/api/jobs/{id}");

    // Replay: failed jobs only.
    let reply = api
        .post(&format!("{}/replay", job(seed.completed)))
        .await
        .expect(409);
    assert_eq!(reply.code(), "conflict");
    assert!(reply.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("completed"));
    api.post(&format!("{}/replay", job(JobId::new())))
        .await
        .expect(404);
    api.post("/api/jobs/nope/replay").await.expect(400);
    let replayed = api
        .post(&format!("{}/replay", job(seed.failed)))
        .await
        .expect(200)
        .json();
    assert_eq!(
        replayed,
        json!({"id": seed.failed.to_string(), "outcome": "replayed"})
    );
    let now = api.get(&job(seed.failed)).await.json();
    assert_eq!(
        (now["state"].as_str(), now["attempts"].as_u64()),
        (Some("pending"), Some(0))
    );
    api.post(&format!("{}/replay", job(seed.failed)))
        .await
        .expect(409);

    // Cancel: pending at once, running by request, finished not at all.
    api.post(&format!("{}/cancel", job(seed.completed)))
        .await
        .expect(409);
    api.post(&format!("{}/cancel", job(JobId::new())))
        .await
        .expect(404);
    let cancelled = api
        .post(&format!("{}/cancel", job(seed.due)))
        .await
        .expect(200)
        .json();
    assert_eq!(cancelled["outcome"], "cancelled");
    assert_eq!(api.get(&job(seed.due)).await.json()["state"], "cancelled");
    let requested = api
        .post(&format!("{}/cancel", job(seed.running)))
        .await
        .expect(200)
        .json();
    assert_eq!(requested["outcome"], "cancel_requested");
    assert_eq!(
        api.get(&job(seed.running)).await.json()["cancel_requested"],
        true
    );

    // Run now: pending jobs scheduled for later.
    let moved = api
        .post(&format!("{}/run-now", job(seed.later)))
        .await
        .expect(200)
        .json();
    assert_eq!(moved["outcome"], "due_now");
    api.post(&format!("{}/run-now", job(seed.later)))
        .await
        .expect(409);
    api.post(&format!("{}/run-now", job(seed.completed)))
        .await
        .expect(409);
    api.post(&format!("{}/run-now", job(JobId::new())))
        .await
        .expect(404);

    // Delete: finished jobs only.
    assert_eq!(
        api.delete(&job(seed.running)).await.expect(409).code(),
        "conflict"
    );
    api.delete(&job(seed.failed)).await.expect(409); // pending again since the replay
    let deleted = api.delete(&job(seed.completed)).await.expect(200).json();
    assert_eq!(deleted["outcome"], "deleted");
    api.get(&job(seed.completed)).await.expect(404);
    api.delete(&job(seed.completed)).await.expect(404);
    api.delete("/api/jobs/nope").await.expect(400);

    let stats = api.get("/api/stats").await.json();
    assert_eq!(
        (
            stats["pending"].as_u64(),
            stats["completed"].as_u64(),
            stats["cancelled"].as_u64()
        ),
        (Some(2), Some(0), Some(2)),
        "{stats}"
    );
}

async fn bulk_replay(api: &Api, q: &dyn Backend) {
    for _ in 0..3 {
        fail(q, "bulk").await;
    }
    fail(q, "other").await;
    let batch = |kind: &'static str| async move {
        api.post(&format!("/api/replay-failed?kind={kind}&limit=2"))
            .await
            .expect(200)
            .json()
    };
    assert_eq!(batch("bulk").await, json!({"count": 2, "more": true}));
    assert_eq!(batch("bulk").await, json!({"count": 1, "more": false}));
    assert_eq!(batch("bulk").await, json!({"count": 0, "more": false}));
    let rest = api.post("/api/replay-failed").await.expect(200).json();
    assert_eq!(rest, json!({"count": 1, "more": false}));
    let failed = api.get("/api/jobs?state=failed").await.json();
    assert_eq!(failed["jobs"], json!([]));
    api.post("/api/replay-failed?limit=x").await.expect(400);
}

async fn purge(api: &Api) {
    for (bad, why) in [
        ("/api/purge?state=pending&older_than=0", "not final"),
        ("/api/purge?older_than=0", "no state"),
        ("/api/purge?state=cancelled", "no age"),
        ("/api/purge?state=cancelled&older_than=soon", "bad age"),
        ("/api/purge?state=gone&older_than=0", "bad state"),
    ] {
        assert_eq!(
            api.post(bad).await.expect(400).code(),
            "invalid_request",
            "{why}"
        );
    }
    let young = api
        .post("/api/purge?state=cancelled&older_than=3600")
        .await
        .expect(200)
        .json();
    assert_eq!(young, json!({"count": 0, "more": false}));

    // "Finished more than 0 s ago": let the clock move past the cancellations.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let one = api
        .post("/api/purge?state=cancelled&older_than=0&limit=1")
        .await
        .expect(200)
        .json();
    assert_eq!(one, json!({"count": 1, "more": true}));
    let rest = api
        .post("/api/purge?state=cancelled&older_than=0")
        .await
        .expect(200)
        .json();
    assert_eq!(rest, json!({"count": 1, "more": false}));
    assert_eq!(api.get("/api/stats").await.json()["cancelled"], 0);
}

async fn pause(api: &Api) {
    let paused = api.post("/api/kinds/email/pause").await.expect(200).json();
    assert_eq!(paused, json!({"paused": ["email"]}));
    let slash = api.post("/api/kinds/a%2Fb/pause").await.expect(200).json();
    assert_eq!(slash, json!({"paused": ["a/b", "email"]}));
    assert_eq!(
        api.get("/api/paused").await.expect(200).json(),
        json!({"paused": ["a/b", "email"]})
    );
    assert_eq!(
        api.get("/api/stats").await.json()["paused"],
        json!(["a/b", "email"])
    );
    let page = api.get("/").await.expect(200).text();
    assert!(
        page.contains(r#"data-url="api/kinds/a%2Fb/resume""#),
        "{page}"
    );

    api.post("/api/kinds/email/resume").await.expect(200);
    let resumed = api.post("/api/kinds/a%2Fb/resume").await.expect(200).json();
    assert_eq!(resumed, json!({"paused": []}));
    assert_eq!(
        api.post("/api/kinds/%20padded/pause")
            .await
            .expect(400)
            .code(),
        "invalid_request"
    );
    assert_eq!(api.get("/api/paused").await.json(), json!({"paused": []}));
}

/// Limits set, shown with their running and held-back jobs, replaced, refused and cleared.
async fn limits(api: &Api, q: &dyn Backend) {
    assert_eq!(
        api.get("/api/limits").await.expect(200).json(),
        json!({"limits": {}})
    );
    let limit = json!({"concurrency": 1, "rate": {"count": 100, "period": 60000}});
    let set = api
        .put_json("/api/kinds/a%2Fb/limit", &limit)
        .await
        .expect(200)
        .json();
    assert_eq!(set, json!({"kind": "a/b", "limit": limit}));
    assert_eq!(
        api.get("/api/limits").await.json(),
        json!({"limits": {"a/b": limit}})
    );

    // One job runs; the limit holds the second back.
    for _ in 0..2 {
        q.enqueue(Job::new("a/b", json!({}))).await.unwrap();
    }
    let claimed = q.dequeue_batch(&["a/b"], 5).await.unwrap();
    assert_eq!(claimed.len(), 1);
    let stats = api.get("/api/stats").await.json();
    assert_eq!(
        stats["limits"],
        json!([{"kind": "a/b", "limit": limit, "running": 1, "waiting": 1}])
    );
    let page = api.get("/").await.expect(200).text();
    assert!(page.contains(r#"data-limit-waiting="a/b">1<"#), "{page}");
    assert!(page.contains("1 at once, 100 per 60s"), "{page}");
    assert!(
        page.contains(r#"data-url="api/kinds/a%2Fb/limit""#),
        "{page}"
    );

    let per_key = json!({"key_concurrency": 2});
    api.put_json("/api/kinds/a%2Fb/limit", &per_key)
        .await
        .expect(200);
    assert_eq!(
        api.get("/api/limits").await.json(),
        json!({"limits": {"a/b": per_key}})
    );
    for bad in [
        json!({"per_key": 1}),
        json!({}),
        json!({"concurrency": 0}),
        json!([]),
    ] {
        let reply = api
            .put_json("/api/kinds/a%2Fb/limit", &bad)
            .await
            .expect(400);
        assert_eq!(reply.code(), "invalid_request", "{bad}");
    }
    assert_eq!(
        api.put_json("/api/kinds/%20padded/limit", &per_key)
            .await
            .expect(400)
            .code(),
        "invalid_request"
    );
    // Refused requests changed nothing.
    assert_eq!(
        api.get("/api/limits").await.json(),
        json!({"limits": {"a/b": per_key}})
    );

    let cleared = api
        .delete("/api/kinds/a%2Fb/limit")
        .await
        .expect(200)
        .json();
    assert_eq!(cleared, json!({"kind": "a/b", "limit": null}));
    assert_eq!(api.get("/api/limits").await.json(), json!({"limits": {}}));
    assert_eq!(api.get("/api/stats").await.json()["limits"], json!([]));
    for job in claimed {
        q.ack(&job.lease().unwrap()).await.unwrap();
    }
}

async fn routes(api: &Api, seed: &Seed) {
    let wrong_method = api
        .get(&format!("/api/jobs/{}/replay", seed.failed))
        .await
        .expect(405);
    assert_eq!(wrong_method.code(), "method_not_allowed");
    assert_eq!(api.get("/api/nope").await.expect(404).code(), "not_found");
    // A GET changes nothing, whatever it asks for.
    let before = api.get("/api/stats").await.json();
    api.get(&format!("/api/jobs/{}?replay=1", seed.running))
        .await
        .expect(200);
    let after = api.get("/api/stats").await.json();
    for state in JobState::ALL {
        assert_eq!(before[state.as_str()], after[state.as_str()]);
    }
}
