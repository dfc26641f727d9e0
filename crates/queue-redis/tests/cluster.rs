//! The whole queue-testkit suite against Redis Cluster: `REDIS_CLUSTER_URL` (e.g.
//! `redis-cluster://127.0.0.1:7000`) when set, else a throw-away local cluster of three
//! masters started from `redis-server` / `redis-cli` on free loopback ports.
//!
//! Each local server runs under a small shell watchdog that stops it and removes its
//! directory as soon as this test process exits (however it exits), so nothing is left
//! running.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use support::RedisFactory;

/// The cluster's URL, starting one the first time it is asked for.
fn cluster_url() -> String {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| match std::env::var("REDIS_CLUSTER_URL") {
        Ok(url) => url,
        Err(_) => start_local_cluster(),
    })
    .clone()
}

/// The watchdog processes, kept so their handles are not dropped unwaited.
static WATCHDOGS: Mutex<Vec<Child>> = Mutex::new(Vec::new());

/// A port that is free, and whose cluster-bus port (+10000) is free too.
fn free_port(taken: &[u16]) -> u16 {
    for _ in 0..200 {
        let p = 20_000 + fastrand::u16(..20_000);
        if taken.contains(&p) {
            continue;
        }
        if TcpListener::bind(("127.0.0.1", p)).is_ok()
            && TcpListener::bind(("127.0.0.1", p + 10_000)).is_ok()
        {
            return p;
        }
    }
    panic!("no free loopback port pair found for the local Redis Cluster");
}

fn start_local_cluster() -> String {
    let missing = |what: &str, e: std::io::Error| -> ! {
        panic!(
            "cannot start a local Redis Cluster: `{what}` failed ({e}). Install redis-server \
             and redis-cli, or set REDIS_CLUSTER_URL to a running cluster \
             (e.g. redis-cluster://127.0.0.1:7000)."
        )
    };
    let dir = std::env::temp_dir().join(format!("queue-redis-cluster-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let parent = std::process::id();
    let mut ports = Vec::new();
    for _ in 0..3 {
        let port = free_port(&ports);
        ports.push(port);
        let script = format!(
            "redis-server --port {port} --bind 127.0.0.1 --cluster-enabled yes \
             --cluster-config-file nodes-{port}.conf --save '' --appendonly no \
             --daemonize no --dir '{dir}' --logfile redis-{port}.log & srv=$!; \
             while kill -0 {parent} 2>/dev/null && kill -0 $srv 2>/dev/null; do sleep 0.3; done; \
             kill $srv 2>/dev/null; wait $srv 2>/dev/null; rm -rf '{dir}'",
            dir = dir.display()
        );
        // The watchdog: runs the server, stops it once the test process is gone. It ends
        // only after this process, so its handle is just kept.
        let watchdog = Command::new("sh")
            .arg("-c")
            .arg(script)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| missing("sh -c redis-server", e));
        WATCHDOGS.lock().unwrap().push(watchdog);
    }
    let cli = |args: &[String]| {
        Command::new("redis-cli")
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| missing("redis-cli", e))
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    for &p in &ports {
        while cli(&["-p".into(), p.to_string(), "ping".into()]).stdout != b"PONG\n" {
            assert!(
                Instant::now() < deadline,
                "redis-server on port {p} did not start; see {}",
                dir.display()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    let mut create = vec!["--cluster".to_string(), "create".into()];
    create.extend(ports.iter().map(|p| format!("127.0.0.1:{p}")));
    create.extend([
        "--cluster-replicas".into(),
        "0".into(),
        "--cluster-yes".into(),
    ]);
    let out = cli(&create);
    assert!(
        out.status.success(),
        "redis-cli --cluster create failed: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    for &p in &ports {
        loop {
            let info = cli(&["-p".into(), p.to_string(), "cluster".into(), "info".into()]);
            if String::from_utf8_lossy(&info.stdout).contains("cluster_state:ok") {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the local cluster never reached cluster_state:ok"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    format!(
        "redis-cluster://127.0.0.1:{}?node=127.0.0.1:{}&node=127.0.0.1:{}",
        ports[0], ports[1], ports[2]
    )
}

queue_testkit::conformance!(RedisFactory::new(cluster_url()));
