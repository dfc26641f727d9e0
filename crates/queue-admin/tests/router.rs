//! What the router does whatever the backend: several queues, nesting under a prefix,
//! assets, metrics, and the errors of a failing backend.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;

use queue_admin::Admin;
use queue_core::{Job, Queue};
use queue_memory::MemoryQueue;
use serde_json::json;
use support::broken::{Broken, URL};
use support::client::Api;

#[tokio::test]
async fn several_queues_are_kept_apart() {
    let billing = Arc::new(MemoryQueue::new());
    let email = Arc::new(MemoryQueue::new());
    billing.enqueue(Job::new("charge", json!(1))).await.unwrap();
    for _ in 0..2 {
        email.enqueue(Job::new("send", json!(1))).await.unwrap();
    }
    let admin = Admin::new()
        .queue("billing", billing.clone())
        .queue("email", email.clone());
    assert_eq!(
        admin.queue_names().collect::<Vec<_>>(),
        ["billing", "email"]
    );
    let api = Api::new(admin.router()).await;

    assert_eq!(
        api.get("/api/queues").await.expect(200).json(),
        json!({"queues": ["billing", "email"]})
    );
    // No queue named: the first one.
    assert_eq!(api.get("/api/stats").await.json()["queue"], "billing");
    assert_eq!(api.get("/api/stats").await.json()["pending"], 1);
    let stats = api.get("/api/stats?queue=email").await.expect(200).json();
    assert_eq!(
        (stats["queue"].as_str(), stats["pending"].as_u64()),
        (Some("email"), Some(2))
    );

    let jobs = api.get("/api/jobs?queue=email").await.expect(200).json();
    assert_eq!(jobs["jobs"].as_array().unwrap().len(), 2);
    let id = jobs["jobs"][0]["id"].as_str().unwrap().to_owned();
    // A job is found in its own queue only.
    api.get(&format!("/api/jobs/{id}?queue=email"))
        .await
        .expect(200);
    api.get(&format!("/api/jobs/{id}?queue=billing"))
        .await
        .expect(404);
    api.get(&format!("/api/jobs/{id}")).await.expect(404);

    api.post("/api/kinds/send/pause?queue=email")
        .await
        .expect(200);
    assert_eq!(email.paused_kinds().await.unwrap(), ["send"]);
    assert!(billing.paused_kinds().await.unwrap().is_empty());

    // The page switches queues, and its links keep the one shown.
    let page = api.get("/?queue=email").await.expect(200).text();
    assert!(
        page.contains(r#"<option value="email" selected>email</option>"#),
        "{page}"
    );
    assert!(page.contains(r#"<meta name="queue-admin-queue" content="email">"#));
    assert!(page.contains(&format!("?queue=email&amp;job={id}")));
    assert_eq!(
        api.get("/api/jobs?queue=nope").await.expect(404).code(),
        "unknown_queue"
    );
}

#[tokio::test]
async fn a_queue_added_again_replaces_the_first() {
    let first = Arc::new(MemoryQueue::new());
    let second = Arc::new(MemoryQueue::new());
    second.enqueue(Job::new("k", json!(1))).await.unwrap();
    let admin = Admin::new().queue("q", first).queue("q", second);
    assert_eq!(admin.queue_names().count(), 1);
    let api = Api::new(admin.router()).await;
    assert_eq!(api.get("/api/stats").await.json()["pending"], 1);
}

#[tokio::test]
async fn an_admin_without_queues_says_so() {
    let api = Api::new(Admin::new().router()).await;
    assert_eq!(api.get("/api/stats").await.expect(404).code(), "not_found");
    api.get("/").await.expect(404);
}

#[tokio::test]
async fn nested_under_a_prefix_every_link_is_relative() {
    let queue = Arc::new(MemoryQueue::new());
    let id = queue.enqueue(Job::new("k", json!(1))).await.unwrap();
    let app = axum::Router::new().nest("/admin/jobs", queue_admin::router(queue));
    let api = Api::nested(app, "/admin/jobs").await;

    let page = api.get("/admin/jobs").await.expect(200).text();
    // Relative to /admin/jobs, "./jobs/" is the router's root.
    assert!(
        page.contains(r#"<meta name="queue-admin-root" content="./jobs/">"#),
        "{page}"
    );
    let css = page
        .split(r#"<link rel="stylesheet" href=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    assert!(css.starts_with("./jobs/assets/admin.css?v="), "{css}");
    let resolved = format!(
        "/admin/{}",
        css.trim_start_matches("./").replace("&amp;", "&")
    );
    api.get(&resolved).await.expect(200);
    assert!(page.contains(&format!(r#"href="?job={id}""#)));
    assert!(!page.contains(r#"href="/"#), "no absolute links");
    assert!(!page.contains(r#"src="/"#), "no absolute sources");

    api.get(&format!("/admin/jobs?job={id}")).await.expect(200);
    api.post(&format!("/admin/jobs/api/jobs/{id}/cancel"))
        .await
        .expect(200);
    assert_eq!(
        api.get("/admin/jobs/api/stats").await.json()["cancelled"],
        1
    );
}

#[tokio::test]
async fn assets_are_served_with_cache_headers() {
    let api = Api::new(queue_admin::router(Arc::new(MemoryQueue::new()))).await;
    let page = api.get("/").await.expect(200).text();
    for (name, content_type) in [
        ("admin.css", "text/css; charset=utf-8"),
        ("admin.js", "text/javascript; charset=utf-8"),
        ("favicon.svg", "image/svg+xml"),
    ] {
        let needle = format!("assets/{name}?v=");
        let at = page
            .find(&needle)
            .unwrap_or_else(|| panic!("{name} is not linked"));
        let href: String = page[at..].chars().take_while(|c| *c != '"').collect();

        let fresh = api.get(&format!("/{href}")).await.expect(200);
        assert_eq!(fresh.header("content-type"), content_type);
        assert_eq!(
            fresh.header("cache-control"),
            "public, max-age=31536000, immutable"
        );
        assert!(!fresh.body.is_empty());
        let etag = fresh.header("etag").to_owned();
        assert!(etag.starts_with('"'), "{etag}");

        // Without the current hash: revalidate, and the ETag answers 304.
        let bare = api.get(&format!("/assets/{name}")).await.expect(200);
        assert_eq!(bare.header("cache-control"), "no-cache");
        let req = axum::http::Request::get(format!("/assets/{name}"))
            .header("if-none-match", &etag)
            .body(axum::body::Body::empty())
            .unwrap();
        let cached = api.send(req).await.expect(304);
        assert!(cached.body.is_empty());
    }
    api.get("/assets/nope.js").await.expect(404);
    api.get("/assets/..%2FCargo.toml").await.expect(404);
}

#[tokio::test]
async fn the_script_writes_no_markup_from_data() {
    let api = Api::new(queue_admin::router(Arc::new(MemoryQueue::new()))).await;
    let js = api.get("/assets/admin.js").await.expect(200).text();
    for risky in [
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
    ] {
        assert!(!js.contains(risky), "admin.js uses {risky}");
    }
    assert!(js.contains("textContent"));
}

#[cfg(feature = "prometheus")]
#[tokio::test]
async fn metrics_serve_what_the_recorder_holds() {
    use metrics_exporter_prometheus::PrometheusBuilder;

    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    metrics::with_local_recorder(&recorder, || {
        metrics::counter!("queue_admin_test_jobs_total").increment(3);
    });
    let queue = Arc::new(MemoryQueue::new());
    let api = Api::new(
        Admin::new()
            .queue("default", queue.clone())
            .metrics(handle)
            .router(),
    )
    .await;
    let reply = api.get("/metrics").await.expect(200);
    assert_eq!(
        reply.header("content-type"),
        "text/plain; version=0.0.4; charset=utf-8"
    );
    assert!(
        reply.text().contains("queue_admin_test_jobs_total 3"),
        "{}",
        reply.text()
    );

    let without = Api::new(queue_admin::router(queue)).await;
    assert_eq!(
        without.get("/metrics").await.expect(404).code(),
        "not_found"
    );
}

#[tokio::test]
async fn transient_backend_errors_are_503_and_hide_the_url() {
    let api = Api::new(queue_admin::router(Arc::new(Broken { transient: true }))).await;
    let id = queue_core::JobId::new();
    let replies = [
        api.get("/api/stats").await,
        api.get("/api/jobs").await,
        api.get(&format!("/api/jobs/{id}")).await,
        api.get("/api/paused").await,
        api.post(&format!("/api/jobs/{id}/replay")).await,
        api.post(&format!("/api/jobs/{id}/cancel")).await,
        api.post(&format!("/api/jobs/{id}/run-now")).await,
        api.delete(&format!("/api/jobs/{id}")).await,
        api.post("/api/replay-failed").await,
        api.post("/api/purge?state=failed&older_than=0").await,
        api.post("/api/kinds/k/pause").await,
        api.post("/api/kinds/k/resume").await,
    ];
    for reply in replies {
        let reply = reply.expect(503);
        assert_eq!(reply.code(), "unavailable");
        let text = reply.text();
        assert!(
            !text.contains("hunter2") && !text.contains("db.internal"),
            "{text}"
        );
        assert!(text.contains("connection refused"), "{text}");
    }
    let page = api.get("/").await.expect(503).text();
    assert!(!page.contains("hunter2") && !page.contains(URL), "{page}");
}

#[tokio::test]
async fn other_backend_errors_are_500_and_hide_passwords() {
    let api = Api::new(queue_admin::router(Arc::new(Broken { transient: false }))).await;
    let reply = api.get("/api/stats").await.expect(500);
    assert_eq!(reply.code(), "internal");
    assert!(!reply.text().contains("hunter2"), "{}", reply.text());
    api.get(&format!("/?job={}", queue_core::JobId::new()))
        .await
        .expect(500);
}
