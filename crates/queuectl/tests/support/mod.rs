//! Shared by the test files: running the binary, and queues to run it on.
//!
//! Servers are found as the other crates' tests find them: Postgres at `DATABASE_URL`
//! (default `postgres://postgres@127.0.0.1:5432/test`), MySQL at `MYSQL_URL` (default
//! `mysql://root@127.0.0.1:3306/test`), Redis at `REDIS_URL` (default
//! `redis://127.0.0.1:6379`); a missing server fails the test, unless
//! `QUEUE_SKIP_SERVERS=1`. Each test uses a table (`qt_…`, which the queue-sql tests'
//! sweep also removes should a run die), SQLite file or Redis queue of its own.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod scenarios;

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use queue_core::{Job, JobId, Queue};
use queue_sql::{SqlOptions, SqlQueue};
use serde_json::Value;

/// How long a test waits for the binary before it gives up.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// What one run of the binary did.
#[derive(Debug)]
pub struct Run {
    /// The exit code (-1 when killed by a signal).
    pub code: i32,
    /// Everything it printed on stdout.
    pub stdout: String,
    /// Everything it printed on stderr.
    pub stderr: String,
}

impl Run {
    /// Asserts exit code 0 and returns the run.
    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(self.code, 0, "expected success: {self:#?}");
        self
    }

    /// Asserts this exit code, with `needle` in stderr, and returns the run.
    #[track_caller]
    pub fn fails(self, code: i32, needle: &str) -> Run {
        assert_eq!(self.code, code, "expected exit code {code}: {self:#?}");
        assert!(
            self.stderr.contains(needle),
            "expected {needle:?} in stderr: {self:#?}"
        );
        self
    }

    /// stdout parsed as one JSON document.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}): {self:#?}"))
    }
}

/// The binary, with the queue options every call gets.
#[derive(Clone, Debug)]
pub struct Cli {
    /// `--url`, `--table` / `--queue` and their values.
    pub queue_args: Vec<String>,
}

impl Cli {
    /// Runs `queuectl` with the queue options and `args`, stdin empty.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with_stdin(args, "")
    }

    /// Runs `queuectl` with the queue options and `args`, feeding `stdin`.
    pub fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Run {
        let mut cmd = binary();
        cmd.args(&self.queue_args).args(args);
        run_command(cmd, stdin)
    }

    /// Runs `args` with `--json`, asserts success and parses the output.
    #[track_caller]
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        self.run(&all).ok().json()
    }

    /// Starts `queuectl` with `args` and stdout piped, for commands that run until stopped.
    pub fn spawn(&self, args: &[&str]) -> Child {
        let mut cmd = binary();
        cmd.args(&self.queue_args)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd.spawn().expect("start queuectl")
    }
}

/// The binary with no `QUEUE_URL` inherited.
pub fn binary() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_queuectl"));
    cmd.env_remove("QUEUE_URL");
    cmd
}

/// Runs `cmd` to the end with `stdin` fed to it, within [`DEADLINE`].
pub fn run_command(mut cmd: Command, stdin: &str) -> Run {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("start queuectl");
    let mut input = child.stdin.take().expect("stdin");
    let text = stdin.to_owned();
    // A command that does not read its stdin may close it first: that is fine.
    let feeder = std::thread::spawn(move || {
        let _ = input.write_all(text.as_bytes());
    });
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = rx
        .recv_timeout(DEADLINE)
        .unwrap_or_else(|_| panic!("queuectl did not finish within {DEADLINE:?}: {cmd:?}"))
        .expect("wait for queuectl");
    let _ = feeder.join();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Reads lines of a child's stdout on a thread, so a test can wait for them with a
/// deadline.
pub fn lines_of(child: &mut Child) -> mpsc::Receiver<String> {
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

/// The next line from [`lines_of`], failing the test past [`DEADLINE`].
#[track_caller]
pub fn next_line(lines: &mpsc::Receiver<String>) -> String {
    match lines.recv_timeout(DEADLINE) {
        Ok(line) => line,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("no line within {DEADLINE:?}"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("the command ended without a line"),
    }
}

/// Sends SIGINT (what Ctrl-C sends) to `child` and returns its exit code.
pub fn interrupt(mut child: Child) -> i32 {
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -INT failed");
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status.code().unwrap_or(-1);
        }
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            panic!("queuectl did not stop within {DEADLINE:?} of SIGINT");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs `command` (a shell command line) under a pseudo-terminal with `script`, feeding
/// `stdin`, so that the tool sees a terminal on stdin, stdout and stderr.
pub fn run_in_terminal(command: &str, stdin: &str) -> Run {
    let available = Command::new("script")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        available,
        "the terminal tests need `script` from util-linux (Debian: apt-get install util-linux)"
    );
    let mut cmd = Command::new("script");
    cmd.args(["--quiet", "--return", "--command", command, "/dev/null"])
        .env_remove("QUEUE_URL");
    run_command(cmd, stdin)
}

/// A unique name: `qt_` and a lowercase ULID (the queue-sql tests sweep such tables).
pub fn fresh_name() -> String {
    format!("qt_{}", JobId::new().to_string().to_lowercase())
}

/// Whether server tests were opted out of; says so once per test.
pub fn skip_servers() -> bool {
    let skip = queue_servers::skip_requested();
    if skip {
        eprintln!(
            "note: {}=1: skipping a test that needs a server",
            queue_servers::SKIP_VAR
        );
    }
    skip
}

/// The Postgres the tests use: `DATABASE_URL`, else the local default.
pub fn pg_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

/// The MySQL (or MariaDB) the tests use: `MYSQL_URL`, else the local default.
pub fn mysql_url() -> String {
    std::env::var("MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".to_string())
}

/// The Redis the tests use: `REDIS_URL`, else the local default.
pub fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_string())
}

/// A SQL queue for one test: its URL and table, and the file it lives in for SQLite
/// (removed on drop, with its WAL files).
pub struct Place {
    /// The database URL.
    pub url: String,
    /// The table.
    pub table: String,
    /// The SQLite file, when it is one.
    file: Option<PathBuf>,
}

impl Place {
    /// A table in a fresh SQLite file that does not exist yet.
    pub fn sqlite() -> Place {
        let dir = std::env::temp_dir().join("queuectl-tests");
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join(format!("{}.db", fresh_name()));
        Place {
            url: format!("sqlite:{}", file.display()),
            table: fresh_name(),
            file: Some(file),
        }
    }

    /// A fresh table on the test Postgres; `None` when server tests are skipped.
    pub fn postgres() -> Option<Place> {
        if skip_servers() {
            return None;
        }
        Some(Place {
            url: pg_url(),
            table: fresh_name(),
            file: None,
        })
    }

    /// A fresh table on the test MySQL; `None` when server tests are skipped.
    pub fn mysql() -> Option<Place> {
        if skip_servers() {
            return None;
        }
        Some(Place {
            url: mysql_url(),
            table: fresh_name(),
            file: None,
        })
    }

    /// The binary pointed at this table.
    pub fn cli(&self) -> Cli {
        Cli {
            queue_args: vec![
                "--url".into(),
                self.url.clone(),
                "--table".into(),
                self.table.clone(),
            ],
        }
    }

    /// The queue itself, created when missing: for setting up states the tool does not
    /// make (running, completed, failed jobs).
    pub async fn open(&self) -> SqlQueue {
        SqlQueue::connect_with(&self.url, SqlOptions::default().table(&self.table))
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "cannot open the test queue: {e}. Start the server (or run `cargo xtask \
                     test`, which starts one), or set QUEUE_SKIP_SERVERS=1 to skip server tests."
                )
            })
    }

    /// Drops the table; the SQLite file goes with the place.
    pub async fn cleanup(self, queue: SqlQueue) {
        let _ = queue.drop_schema().await;
    }
}

/// Removes the SQLite file, also when a test failed (a Postgres or MySQL table left by a
/// failed test is removed by the queue-sql tests' sweep of old `qt_` tables).
impl Drop for Place {
    fn drop(&mut self) {
        if let Some(file) = &self.file {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
            }
        }
    }
}

/// Enqueues a job of `kind` and returns its id.
pub async fn pending(q: &dyn Queue, kind: &str) -> JobId {
    q.enqueue(Job::new(kind, serde_json::json!({"kind": kind})))
        .await
        .unwrap()
}

/// A running job of `kind` (the only pending job of that kind is claimed).
pub async fn running(q: &dyn Queue, kind: &str) -> Job {
    let id = pending(q, kind).await;
    let job = q.dequeue(&[kind]).await.unwrap().expect("a job to claim");
    assert_eq!(job.id, id, "claimed another job of {kind}");
    job
}

/// A completed job of `kind`.
pub async fn completed(q: &dyn Queue, kind: &str) -> JobId {
    let job = running(q, kind).await;
    q.ack(&job.lease().unwrap()).await.unwrap();
    job.id
}

/// A failed (dead-lettered) job of `kind`.
pub async fn failed(q: &dyn Queue, kind: &str) -> JobId {
    let job = running(q, kind).await;
    q.discard(&job.lease().unwrap(), "boom").await.unwrap();
    job.id
}

/// The `id` field of a JSON document, as a job id.
#[track_caller]
pub fn id_of(doc: &Value) -> JobId {
    doc["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no id in {doc}"))
}
