//! A server process in a temp dir of its own: started (again) at will, stopped with the
//! server's own clean-shutdown signal (killed if it lingers), and stopped and removed on
//! drop. Every one is also reachable from [`stop_all`], for signal handlers.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

/// How long a server gets to shut down cleanly before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(15);

/// How often a starting server is asked whether it is ready.
const READY_POLL: Duration = Duration::from_millis(50);

/// Every server made so far, for [`stop_all`]. Its lock is held while a server's dir is
/// made, so `stop_all` never misses one that is half made.
static LIVE: Mutex<Vec<Weak<Mutex<Slot>>>> = Mutex::new(Vec::new());

/// Ports handed to our servers: one may not have bound its port yet, and a stopped one
/// keeps its port for its restart.
static PORTS: Mutex<Vec<u16>> = Mutex::new(Vec::new());

/// Tells apart the dirs of the servers of one process.
static NEXT_DIR: AtomicU64 = AtomicU64::new(0);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Whatever panicked while holding one of these, stopping the servers still matters more.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// One server: its dir, and its process while it runs.
pub(crate) struct Process {
    name: &'static str,
    dir: PathBuf,
    slot: Arc<Mutex<Slot>>,
}

struct Slot {
    name: &'static str,
    /// The signal asking for a clean, quick shutdown (Postgres: INT, its "fast" mode).
    stop_signal: &'static str,
    dir: PathBuf,
    child: Option<Child>,
    /// The dir is gone, so nothing may start here again.
    removed: bool,
}

impl Process {
    /// Makes a fresh temp dir for a server called `name`, which `stop_signal` stops.
    pub(crate) fn new(name: &'static str, stop_signal: &'static str) -> Result<Process, String> {
        let n = NEXT_DIR.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("queue-servers-{name}-{}-{n}", std::process::id()));
        let mut live = lock(&LIVE);
        // A dir of this name is left from an earlier run that had our pid and was killed.
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        // A server may run as another user (see postgres), who must be able to enter.
        set_mode(&dir, 0o755)?;
        let slot = Arc::new(Mutex::new(Slot {
            name,
            stop_signal,
            dir: dir.clone(),
            child: None,
            removed: false,
        }));
        live.retain(|s| s.strong_count() > 0);
        live.push(Arc::downgrade(&slot));
        Ok(Process { name, dir, slot })
    }

    /// The server's own temp dir.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// Starts `cmd` with its output appended to `log` (so a restart keeps the history).
    pub(crate) fn spawn(&self, cmd: &mut Command, log: &Path) -> Result<(), String> {
        let out = OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(|e| format!("cannot open {}: {e}", log.display()))?;
        let err = out
            .try_clone()
            .map_err(|e| format!("cannot open {}: {e}", log.display()))?;
        let mut slot = lock(&self.slot);
        if slot.removed {
            return Err(format!("{} was stopped for good", self.name));
        }
        if let Some(child) = &mut slot.child {
            if let Ok(None) = child.try_wait() {
                return Err(format!("{} is already running", self.name));
            }
        }
        // Spawned under the lock, so `stop_all` either sees this child or stopped us first.
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", self.name))?;
        slot.child = Some(child);
        Ok(())
    }

    /// Why the server is not running (it exited, or was stopped), or `None` while it runs.
    fn not_running(&self) -> Option<String> {
        let mut slot = lock(&self.slot);
        match slot.child.as_mut() {
            None => Some("was stopped".into()),
            Some(child) => match child.try_wait() {
                Ok(None) => None,
                Ok(Some(status)) => Some(format!("exited ({status})")),
                Err(e) => Some(format!("cannot be waited for ({e})")),
            },
        }
    }

    /// Waits until `ready` succeeds, the server exits, or `timeout` passes; in the last
    /// two cases it is stopped and the error quotes `log`.
    pub(crate) fn wait_ready(
        &self,
        timeout: Duration,
        log: &Path,
        mut ready: impl FnMut() -> Result<(), String>,
    ) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(why) = self.not_running() {
                let _ = self.stop();
                return Err(format!("{} {why}; {}", self.name, log_tail(log)));
            }
            let last = match ready() {
                Ok(()) => return Ok(()),
                Err(e) => e,
            };
            if Instant::now() > deadline {
                let _ = self.stop();
                return Err(format!(
                    "{} was not ready within {}s ({last}); {}",
                    self.name,
                    timeout.as_secs(),
                    log_tail(log)
                ));
            }
            std::thread::sleep(READY_POLL);
        }
    }

    /// Stops the server (clean shutdown, waited for); its dir stays for a restart. A
    /// no-op when it is not running.
    pub(crate) fn stop(&self) -> Result<(), String> {
        let mut slot = lock(&self.slot);
        match slot.child.take() {
            Some(child) => stop_child(slot.name, slot.stop_signal, child),
            None => Ok(()),
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        close(&self.slot);
    }
}

/// Stops every server this process started and removes their dirs; they cannot be
/// started again. For a signal handler (Ctrl-C, SIGTERM) that is about to exit, since
/// `exit` runs no destructors. Dropping a server does the same for that one.
pub fn stop_all() {
    let live = lock(&LIVE);
    for slot in live.iter().filter_map(Weak::upgrade) {
        close(&slot);
    }
}

/// A free loopback port for a server of ours, never one handed to another of ours.
pub(crate) fn reserve_port() -> Result<u16, String> {
    let mut ports = lock(&PORTS);
    let port = crate::host::free_port(&ports)?;
    ports.push(port);
    Ok(port)
}

/// Stops the server and removes its dir; a no-op the second time. Holds the slot's lock
/// throughout, so a second caller (a drop racing a signal handler) waits for the
/// cleanup instead of letting the process exit in the middle of it.
fn close(slot: &Mutex<Slot>) {
    let mut slot = lock(slot);
    if slot.removed {
        return;
    }
    if let Some(child) = slot.child.take() {
        if let Err(e) = stop_child(slot.name, slot.stop_signal, child) {
            eprintln!("queue-servers: {e}");
        }
    }
    if let Err(e) = std::fs::remove_dir_all(&slot.dir) {
        if e.kind() != std::io::ErrorKind::NotFound {
            eprintln!("queue-servers: cannot remove {}: {e}", slot.dir.display());
        }
    }
    slot.removed = true;
}

/// Asks for a clean shutdown and waits for it; kills the server if it takes too long.
fn stop_child(name: &str, signal: &str, mut child: Child) -> Result<(), String> {
    let mut result = Ok(());
    if let Ok(None) = child.try_wait() {
        // std can only send SIGKILL; the shell's kill builtin sends the gentle one, so
        // Postgres releases its shared memory and Redis flushes its append-only file.
        let pid = child.id();
        let _ = Command::new("sh")
            .arg("-c")
            .arg(format!("kill -s {signal} {pid}"))
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + STOP_GRACE;
        while let Ok(None) = child.try_wait() {
            if Instant::now() > deadline {
                let _ = child.kill();
                result = Err(format!(
                    "{name} did not stop within {}s; killed it",
                    STOP_GRACE.as_secs()
                ));
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    let _ = child.wait();
    result
}

/// The last lines of a server's log, for an error message.
pub(crate) fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(15)..].join("\n  ");
    if tail.is_empty() {
        format!("its {} is empty", log_name(log))
    } else {
        format!("last lines of its {}:\n  {tail}", log_name(log))
    }
}

/// A log's file name: its directory is gone by the time an error is read.
fn log_name(log: &Path) -> String {
    log.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(unix)]
pub(crate) fn set_mode(path: &Path, mode: u32) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| format!("cannot set the mode of {}: {e}", path.display()))
}

#[cfg(not(unix))]
pub(crate) fn set_mode(_: &Path, _: u32) -> Result<(), String> {
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn log_tail_keeps_the_last_lines() {
        let path =
            std::env::temp_dir().join(format!("queue-servers-log-tail-{}", std::process::id()));
        let text: String = (1..=20).map(|i| format!("line {i}\n")).collect();
        std::fs::write(&path, text).unwrap();
        let tail = log_tail(&path);
        let _ = std::fs::remove_file(&path);
        assert!(tail.contains("line 20") && tail.contains("line 6"));
        assert!(!tail.contains("line 5\n"));
    }

    #[test]
    fn reserved_ports_differ() {
        let a = reserve_port().unwrap();
        let b = reserve_port().unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn a_process_runs_stops_restarts_and_cleans_up() {
        let p = Process::new("sleeper", "TERM").unwrap();
        let dir = p.dir().to_path_buf();
        let log = dir.join("sleeper.log");
        let start = |p: &Process| p.spawn(Command::new("sleep").arg("30"), &log);
        start(&p).unwrap();
        assert!(start(&p).is_err(), "a second start while running must fail");
        p.wait_ready(Duration::from_secs(5), &log, || Ok(()))
            .unwrap();
        p.stop().unwrap();
        assert!(p.not_running().is_some());
        assert!(dir.is_dir(), "stop keeps the dir for a restart");
        start(&p).unwrap();
        assert!(p.not_running().is_none());
        drop(p);
        assert!(!dir.exists(), "drop removes the dir");
    }
}
