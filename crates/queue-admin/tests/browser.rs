//! The dashboard in a real browser: headless Chromium driven over WebDriver (chromedriver)
//! against the standalone server, with a worker running. Needs `chromedriver` and
//! `chromium` (Debian: `apt-get install chromium chromium-driver`); fails loudly without
//! them unless QUEUE_SKIP_BROWSER=1.
//!
//! Saves screenshots to `<target dir>/queue-admin/`: `dashboard.png` (1280 px wide),
//! `dashboard-narrow.png` (a phone's width) and `job.png`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use queue_admin::{Admin, Auth, ServeOptions, Server};
use queue_core::{Browsable, Data, Job, JobError, JobState, Limit, Queue, Worker};
use queue_memory::MemoryQueue;
use serde_json::{json, Value};
use support::eventually;

const TOKEN: &str = "browser-test-token";
const FAILURE: &str = "card declined by the issuer (code 51)";

/// While set, `payment.capture` jobs fail.
#[derive(Clone)]
struct Declining(Arc<AtomicBool>);

async fn capture(job: Job, declining: Data<Declining>) -> Result<Value, JobError> {
    if declining.0.load(Ordering::SeqCst) {
        return Err(JobError::retry(FAILURE));
    }
    Ok(json!({"captured": job.payload["amount"], "currency": "EUR"}))
}

async fn quick(job: Job) -> Result<Value, JobError> {
    tokio::time::sleep(Duration::from_millis(5)).await;
    Ok(json!({"ok": true, "kind": job.kind}))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_in_headless_chromium() {
    if std::env::var("QUEUE_SKIP_BROWSER").is_ok_and(|v| v == "1") {
        eprintln!("note: QUEUE_SKIP_BROWSER=1: skipping the browser test");
        return;
    }
    let driver_path = find_program("chromedriver").unwrap_or_else(|| {
        panic!(
            "chromedriver is not installed: `apt-get install chromium chromium-driver` \
             (Debian), or set QUEUE_SKIP_BROWSER=1 to skip the browser test"
        )
    });
    let shots = screenshot_dir();

    // A queue with a worker, some jobs done and one failed.
    let queue = Arc::new(MemoryQueue::new());
    let declining = Declining(Arc::new(AtomicBool::new(true)));
    let worker = Worker::new(queue.clone())
        .data(declining.clone())
        .handle("payment.capture", capture)
        .handle("email.send", quick)
        .handle("invoice.render", quick)
        .handle("webhook.deliver", quick)
        .handle("newsletter.send", quick)
        .concurrency(8)
        .start()
        .unwrap();
    queue.pause_kind("newsletter.send").await.unwrap();
    let mut jobs = Vec::new();
    for i in 0..12 {
        jobs.push(Job::new(
            "email.send",
            json!({"to": format!("user{i}@example.com")}),
        ));
    }
    for i in 0..5 {
        jobs.push(Job::new("invoice.render", json!({"invoice": 1000 + i})));
    }
    for i in 0..4 {
        jobs.push(Job::new("webhook.deliver", json!({"endpoint": i})));
    }
    for week in [49, 50] {
        jobs.push(Job::new("newsletter.send", json!({"week": week})));
        jobs.push(Job::new("report.build", json!({"week": week})).delay(Duration::from_secs(3600)));
    }
    queue.enqueue_batch(jobs).await.unwrap();
    let failed_id = queue
        .enqueue(
            Job::new(
                "payment.capture",
                json!({"amount": 4200, "order": "A-1017"}),
            )
            .max_attempts(1),
        )
        .await
        .unwrap();
    eventually("the first jobs to finish", || async {
        let s = queue.stats().await.unwrap();
        s.completed == 21 && s.failed == 1 && s.running == 0
    })
    .await;

    // The standalone server, with a token.
    let server = Server::bind(
        Admin::new().queue("default", queue.clone()),
        ServeOptions::new("127.0.0.1:0".parse().unwrap(), Auth::Bearer(TOKEN.into())),
    )
    .await
    .unwrap();
    let addr = server.local_addr();
    let (stop_server, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(server.run_until(async {
        let _ = stopped.await;
    }));

    let mut driver = Chromedriver::start(&driver_path).await;
    let browser = driver.session().await;
    let outcome = tokio::spawn(scenario(
        browser.clone(),
        format!("http://admin:{TOKEN}@{addr}/"),
        queue.clone(),
        declining,
        failed_id,
        shots,
    ))
    .await;

    let _ = browser.close().await;
    driver.stop().await;
    let _ = stop_server.send(());
    let _ = served.await;
    worker.shutdown(Duration::from_secs(10)).await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

async fn scenario(
    browser: Client,
    base: String,
    queue: Arc<MemoryQueue>,
    declining: Declining,
    failed_id: queue_core::JobId,
    shots: PathBuf,
) {
    browser.goto(&base).await.unwrap();

    // The counts on the page are the backend's.
    let stats = queue.stats().await.unwrap();
    for state in JobState::ALL {
        let shown = text_of(&browser, &format!(r#"[data-count="{state}"]"#)).await;
        assert_eq!(shown, stats.get(state).to_string(), "{state}");
    }
    let chip = text_of(&browser, ".paused-panel .chip .mono").await;
    assert_eq!(chip, "newsletter.send");
    // The script polls the stats (through the same authentication) and says so.
    wait_for_text(&browser, "[data-live-text]", "live").await;

    // A limit set from the form is stored in the backend and listed once the page reloads.
    let form = wait_for(&browser, "form[data-limit-form]").await;
    for (field, value) in [
        ("kind", "report.build"),
        ("concurrency", "2"),
        ("rate", "100/1m"),
    ] {
        form.find(Locator::Css(&format!(r#"input[name="{field}"]"#)))
            .await
            .unwrap()
            .send_keys(value)
            .await
            .unwrap();
    }
    click(&browser, "form[data-limit-form] button[type=submit]").await;
    wait_for_text(&browser, ".limits-panel td.kind", "report.build").await;
    assert_eq!(
        queue.limits().await.unwrap()["report.build"],
        Limit::concurrency(2).with_rate(100, Duration::from_secs(60))
    );
    let shown = text_of(&browser, ".limits-panel td:nth-child(2)").await;
    assert_eq!(shown, "2 at once, 100 per 60s");
    // Its running jobs are kept live by the script's polling, without a reload.
    let running = r#"[data-limit-running="report.build"]"#;
    assert_eq!(text_of(&browser, running).await, "0");
    for week in [51, 52] {
        queue
            .enqueue(Job::new("report.build", json!({"week": week})))
            .await
            .unwrap();
    }
    let claimed = queue.dequeue_batch(&["report.build"], 2).await.unwrap();
    assert_eq!(claimed.len(), 2);
    wait_for_text(&browser, running, "2").await;
    for job in &claimed {
        queue.ack(&job.lease().unwrap()).await.unwrap();
    }
    wait_for_text(&browser, running, "0").await;

    // Some traffic for the charts; the screenshot is taken while it flows, once the charts
    // have a few points (their history survives the reload that lists the new jobs).
    let trickle = {
        let queue = queue.clone();
        tokio::spawn(async move {
            let kinds = ["email.send", "webhook.deliver", "invoice.render"];
            for round in 0..48u64 {
                let size = [1, 2, 4, 6, 5, 3][usize::try_from(round / 4 % 6).unwrap()];
                let batch = (0..size)
                    .map(|i| {
                        Job::new(
                            kinds[usize::try_from((round + i) % 3).unwrap()],
                            json!({"round": round}),
                        )
                    })
                    .collect();
                queue.enqueue_batch(batch).await.unwrap();
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        })
    };
    wait_until(
        &browser,
        "the charts to draw a few points",
        |b| async move { chart_points(&b).await >= 3 },
    )
    .await;
    browser.refresh().await.unwrap();
    wait_until(&browser, "the charts to draw more points", |b| async move {
        chart_points(&b).await >= 5
    })
    .await;
    screenshot(&browser, 1280, 1000, &shots.join("dashboard.png")).await;
    trickle.await.unwrap();
    eventually("the trickle to drain", || async {
        let s = queue.stats().await.unwrap();
        s.running == 0 && s.pending == 4
    })
    .await;
    let completed = queue.stats().await.unwrap().completed.to_string();
    wait_for_text(&browser, r#"[data-count="completed"]"#, &completed).await;

    // The failed job: from its card, to the list, to the job.
    click(&browser, "a.card.state-failed").await;
    let link = wait_for(&browser, "table.jobs td.id a").await;
    assert_eq!(link.text().await.unwrap(), failed_id.to_string());
    link.click().await.unwrap();
    wait_for_text(&browser, "[data-job-badge] .badge", "failed").await;
    let error = text_of(&browser, r#"[data-block="error"] pre"#).await;
    assert_eq!(error, FAILURE);
    let payload = text_of(&browser, r#"[data-block="payload"] pre"#).await;
    assert!(payload.contains("\"order\": \"A-1017\""), "{payload}");

    // Replay it, confirm, and watch it complete on the page.
    declining.0.store(false, Ordering::SeqCst);
    click(&browser, r#"button[data-url$="/replay"]"#).await;
    wait_until(&browser, "the confirmation dialog", |b| async move {
        b.get_alert_text().await.is_ok()
    })
    .await;
    browser.accept_alert().await.unwrap();
    wait_for_text(&browser, "[data-job-badge] .badge", "completed").await;
    let output = text_of(&browser, r#"[data-block="output"] pre"#).await;
    assert!(output.contains("\"captured\": 4200"), "{output}");
    assert_eq!(
        queue.get_job(failed_id).await.unwrap().unwrap().state,
        JobState::Completed
    );
    screenshot(&browser, 1280, 2400, &shots.join("job.png")).await;

    // The dashboard on a phone's width.
    browser.goto(&base).await.unwrap();
    wait_for(&browser, ".cards").await;
    screenshot(&browser, 390, 2400, &shots.join("dashboard-narrow.png")).await;

    // The limit's clear button, confirmed, removes it.
    click(&browser, r#".limits-panel button[data-method="DELETE"]"#).await;
    wait_until(&browser, "the confirmation dialog", |b| async move {
        b.get_alert_text().await.is_ok()
    })
    .await;
    browser.accept_alert().await.unwrap();
    wait_for_text(
        &browser,
        ".limits-panel p",
        "None: no kind is limited across workers.",
    )
    .await;
    assert!(queue.limits().await.unwrap().is_empty());
}

/// How many points the finished-per-second chart has drawn.
async fn chart_points(browser: &Client) -> u64 {
    let points = browser
        .execute(
            r#"const l = document.querySelector('[data-chart="rate"] polyline');
               return l ? l.getAttribute('points').split(' ').length : 0;"#,
            vec![],
        )
        .await
        .unwrap();
    points.as_u64().unwrap_or(0)
}

/// Where the screenshots go: `$CARGO_TARGET_DIR/queue-admin`, else the workspace's
/// `target/queue-admin`.
fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("queue-admin");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Resizes the window to show the page at `width`, down to at most `max_height` pixels,
/// then saves a screenshot.
async fn screenshot(browser: &Client, width: u32, max_height: u64, path: &Path) {
    browser.set_window_size(width, 900).await.unwrap();
    let dims = browser
        .execute(
            "return [document.documentElement.scrollHeight, window.outerHeight - window.innerHeight];",
            vec![],
        )
        .await
        .unwrap();
    let content = dims[0].as_u64().unwrap().min(max_height);
    let frame = dims[1].as_u64().unwrap_or(0);
    browser
        .set_window_size(width, u32::try_from(content + frame).unwrap())
        .await
        .unwrap();
    wait_until(browser, "the window to take the new size", |b| async move {
        let inner = b
            .execute("return window.innerHeight;", vec![])
            .await
            .unwrap();
        inner.as_u64().unwrap_or(0) >= content
    })
    .await;
    let png = browser.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
    std::fs::write(path, png).unwrap();
    eprintln!("screenshot: {}", path.display());
}

async fn wait_for(browser: &Client, css: &str) -> fantoccini::elements::Element {
    browser
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css} on the page: {e}"))
}

async fn text_of(browser: &Client, css: &str) -> String {
    wait_for(browser, css).await.text().await.unwrap()
}

async fn click(browser: &Client, css: &str) {
    wait_for(browser, css).await.click().await.unwrap();
}

/// Waits until the element at `css` reads `want`, finding it afresh each time (the page
/// may reload meanwhile).
async fn wait_for_text(browser: &Client, css: &str, want: &str) {
    let mut last = String::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(el) = browser.find(Locator::Css(css)).await {
            if let Ok(text) = el.text().await {
                if text == want {
                    return;
                }
                last = text;
            }
        }
        assert!(
            Instant::now() < deadline,
            "{css} still reads {last:?}, not {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn wait_until<F, Fut>(browser: &Client, what: &str, mut cond: F)
where
    F: FnMut(Client) -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(30);
    while !cond(browser.clone()).await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// A chromedriver on a free local port, killed when stopped or dropped. It and its
/// browser keep their temporary files (profiles, scoped dirs) in a directory of their own,
/// removed with it: left in /tmp they would pile up with every run.
struct Chromedriver {
    child: tokio::process::Child,
    url: String,
    tmp: std::path::PathBuf,
}

impl Chromedriver {
    async fn start(program: &Path) -> Chromedriver {
        let port = {
            let probe = TcpListener::bind("127.0.0.1:0").unwrap();
            probe.local_addr().unwrap().port()
        };
        let tmp =
            std::env::temp_dir().join(format!("queue-admin-browser-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&tmp).unwrap();
        let child = tokio::process::Command::new(program)
            .arg(format!("--port={port}"))
            .env("TMPDIR", &tmp)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
        Chromedriver {
            child,
            url: format!("http://127.0.0.1:{port}"),
            tmp,
        }
    }

    /// A headless Chromium session, waiting (bounded) for the driver to listen.
    async fn session(&mut self) -> Client {
        let mut options = json!({
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-dev-shm-usage",
                "--disable-gpu",
                "--window-size=1280,900",
                "--force-device-scale-factor=1",
                "--hide-scrollbars",
            ]
        });
        if let Some(chromium) = find_program("chromium") {
            options["binary"] = json!(chromium);
        }
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert("goog:chromeOptions".into(), options);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(caps.clone())
                .connect(&self.url)
                .await
            {
                Ok(client) => return client,
                Err(e) => {
                    if let Ok(Some(status)) = self.child.try_wait() {
                        panic!("chromedriver exited ({status}) before a session started: {e}");
                    }
                    assert!(
                        Instant::now() < deadline,
                        "no browser session from chromedriver at {}: {e}",
                        self.url
                    );
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }

    async fn stop(&mut self) {
        let _ = self.child.kill().await;
        let _ = std::fs::remove_dir_all(&self.tmp);
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        // After a failed test too; the child is killed on drop as well.
        let _ = self.child.start_kill();
        let _ = std::fs::remove_dir_all(&self.tmp);
    }
}
