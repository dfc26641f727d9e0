//! The worker processes of one scenario: spawned, SIGKILLed, told to stop, and how each
//! one ended.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::analysis::Fate;
use crate::config::WorkerConfig;
use crate::ledger::now_micros;

/// How long a worker told to stop gets before it is killed (its own grace is 5 s).
const STOP_WAIT: Duration = Duration::from_secs(20);

struct Proc {
    child: Child,
    log: PathBuf,
}

/// The live workers of a scenario, and the fates of the others. Dropping it kills the
/// live ones, so a failing harness leaves no process behind.
pub struct Workers {
    bin: PathBuf,
    dir: PathBuf,
    template: WorkerConfig,
    live: Vec<Proc>,
    spawned: usize,
    /// How each process that is gone ended.
    pub fates: HashMap<u32, Fate>,
    /// Every ledger written so far.
    pub ledgers: Vec<PathBuf>,
    /// Workers that exited without being told, with the end of their log.
    pub crashed: Vec<String>,
}

impl Workers {
    /// No workers yet; each will run `bin` with `template` (its ledger set per process),
    /// keeping its ledger and log in `dir`.
    pub fn new(bin: &Path, dir: &Path, template: WorkerConfig) -> Workers {
        Workers {
            bin: bin.to_path_buf(),
            dir: dir.to_path_buf(),
            template,
            live: Vec::new(),
            spawned: 0,
            fates: HashMap::new(),
            ledgers: Vec::new(),
            crashed: Vec::new(),
        }
    }

    /// How many run now.
    pub fn live(&self) -> usize {
        self.live.len()
    }

    /// Starts one more worker; returns its pid.
    pub fn spawn(&mut self) -> Result<u32, String> {
        let n = self.spawned;
        self.spawned += 1;
        let mut config = self.template.clone();
        config.ledger = self.dir.join(format!("worker-{n}.ledger"));
        let log = self.dir.join(format!("worker-{n}.log"));
        let err =
            File::create(&log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
        let child = Command::new(&self.bin)
            .args(config.to_args())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(err)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", self.bin.display()))?;
        self.ledgers.push(config.ledger);
        let pid = child.id();
        self.live.push(Proc { child, log });
        Ok(pid)
    }

    /// SIGKILLs a random live worker and reaps it; returns its pid.
    pub fn kill_one(&mut self) -> Result<u32, String> {
        if self.live.is_empty() {
            return Err("no live worker to kill".into());
        }
        let mut p = self.live.swap_remove(fastrand::usize(..self.live.len()));
        let pid = p.child.id();
        // std's kill is SIGKILL on Unix: no handler, no cleanup, mid-write if it must.
        p.child
            .kill()
            .map_err(|e| format!("cannot kill worker {pid}: {e}"))?;
        let _ = p.child.wait();
        // Reaped: nothing of it runs any more, so its runs ended by now.
        self.fates.insert(pid, Fate::Killed { at: now_micros() });
        Ok(pid)
    }

    /// Notes workers that exited on their own (a crash: nobody told them to).
    pub fn poll(&mut self) {
        let mut i = 0;
        while i < self.live.len() {
            match self.live[i].child.try_wait() {
                Ok(None) => i += 1,
                Ok(Some(status)) => {
                    let p = self.live.swap_remove(i);
                    let pid = p.child.id();
                    self.fates.insert(pid, Fate::Exited { at: now_micros() });
                    self.crashed
                        .push(format!("worker {pid} exited ({status}): {}", tail(&p.log)));
                }
                Err(e) => {
                    let p = self.live.swap_remove(i);
                    self.crashed
                        .push(format!("worker {} cannot be waited for: {e}", p.child.id()));
                }
            }
        }
    }

    /// Tells every live worker to stop (closes its stdin) and waits for it; one that
    /// lingers past the grace is killed, and reported.
    pub fn stop_all(&mut self) {
        for p in &mut self.live {
            drop(p.child.stdin.take());
        }
        let deadline = Instant::now() + STOP_WAIT;
        for mut p in std::mem::take(&mut self.live) {
            let pid = p.child.id();
            loop {
                match p.child.try_wait() {
                    Ok(Some(status)) => {
                        self.fates.insert(pid, Fate::Exited { at: now_micros() });
                        if !status.success() {
                            self.crashed
                                .push(format!("worker {pid} exited ({status}): {}", tail(&p.log)));
                        }
                        break;
                    }
                    Ok(None) if Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(20))
                    }
                    _ => {
                        let _ = p.child.kill();
                        let _ = p.child.wait();
                        self.fates.insert(pid, Fate::Killed { at: now_micros() });
                        self.crashed.push(format!(
                            "worker {pid} did not stop within {STOP_WAIT:?} of being told; \
                             killed: {}",
                            tail(&p.log)
                        ));
                        break;
                    }
                }
            }
        }
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        for p in &mut self.live {
            let _ = p.child.kill();
            let _ = p.child.wait();
        }
    }
}

/// The last lines of a worker's log.
fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(5)..].join(" | ");
    if tail.is_empty() {
        "its log is empty".into()
    } else {
        format!("log {}: {tail}", log.display())
    }
}
