//! Throw-away server processes in one temp dir, stopped and removed when dropped, on
//! Ctrl-C and on SIGTERM / SIGHUP (a CI timeout, a closed terminal).

use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long a server gets to shut down cleanly before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(15);

/// The servers started so far and their directory. Shared with the signal handler, so
/// whichever comes first (the guard's drop or a signal) stops them, exactly once.
pub struct Throwaway {
    inner: Arc<Mutex<Option<Inner>>>,
}

struct Inner {
    dir: PathBuf,
    servers: Vec<Server>,
    ports: Vec<u16>,
}

struct Server {
    name: &'static str,
    child: Child,
    /// The signal asking for a clean, quick shutdown (Postgres: INT, "fast" mode).
    stop_signal: &'static str,
}

impl Throwaway {
    /// Makes the temp dir and installs the signal handler.
    pub fn new() -> Result<Throwaway, String> {
        let dir = std::env::temp_dir().join(format!("queue-xtask-services-{}", std::process::id()));
        // A dir of this name is left from an earlier run that had our pid and was killed.
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        // Postgres may run as another user (see postgres.rs), who must be able to enter.
        set_mode(&dir, 0o755)?;
        let inner = Arc::new(Mutex::new(Some(Inner {
            dir,
            servers: Vec::new(),
            ports: Vec::new(),
        })));
        let shared = Arc::clone(&inner);
        ctrlc::set_handler(move || {
            eprintln!("xtask: interrupted: stopping the throw-away servers");
            shutdown(&shared);
            std::process::exit(130);
        })
        .map_err(|e| format!("cannot install the Ctrl-C handler: {e}"))?;
        Ok(Throwaway { inner })
    }

    fn lock(&self) -> MutexGuard<'_, Option<Inner>> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A fresh subdirectory of the temp dir.
    pub fn subdir(&self, name: &str) -> Result<PathBuf, String> {
        let dir = self
            .lock()
            .as_ref()
            .map(|i| i.dir.join(name))
            .ok_or("interrupted")?;
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        Ok(dir)
    }

    /// A free loopback port, not one already handed to another server of ours (which
    /// may not have bound it yet).
    pub fn port(&self) -> Result<u16, String> {
        let mut guard = self.lock();
        let inner = guard.as_mut().ok_or("interrupted")?;
        let port = free_port(&inner.ports)?;
        inner.ports.push(port);
        Ok(port)
    }

    /// Starts `cmd` with its output in `log`, and keeps it to stop later.
    pub fn spawn(
        &self,
        name: &'static str,
        cmd: &mut Command,
        stop_signal: &'static str,
        log: &Path,
    ) -> Result<(), String> {
        let out = File::create(log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
        let err = out
            .try_clone()
            .map_err(|e| format!("cannot open {}: {e}", log.display()))?;
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("cannot start {name}: {e}"))?;
        let server = Server {
            name,
            child,
            stop_signal,
        };
        match self.lock().as_mut() {
            Some(inner) => inner.servers.push(server),
            // A signal already stopped everything; this one must not outlive us.
            None => server.stop(),
        }
        Ok(())
    }

    /// The exit status of server `name`, if it has already exited.
    pub fn exited(&self, name: &str) -> Option<ExitStatus> {
        let mut guard = self.lock();
        let server = guard
            .as_mut()?
            .servers
            .iter_mut()
            .find(|s| s.name == name)?;
        server.child.try_wait().ok().flatten()
    }
}

impl Drop for Throwaway {
    fn drop(&mut self) {
        shutdown(&self.inner);
    }
}

/// Stops every server and removes the temp dir; a no-op the second time. The lock is
/// held throughout, so a second caller (main returning while the signal handler runs)
/// waits for the cleanup instead of letting the process exit in the middle of it.
fn shutdown(inner: &Mutex<Option<Inner>>) {
    let mut guard = inner.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(inner) = guard.take() {
        for server in inner.servers {
            server.stop();
        }
        if let Err(e) = std::fs::remove_dir_all(&inner.dir) {
            eprintln!("xtask: cannot remove {}: {e}", inner.dir.display());
        }
    }
}

impl Server {
    /// Asks for a clean shutdown, then kills it if it takes too long.
    fn stop(mut self) {
        if let Ok(None) = self.child.try_wait() {
            // std can only send SIGKILL; the shell's kill builtin sends the gentle one, so
            // Postgres releases its shared memory.
            let pid = self.child.id();
            let _ = Command::new("sh")
                .arg("-c")
                .arg(format!("kill -s {} {pid}", self.stop_signal))
                .stderr(Stdio::null())
                .status();
            let deadline = Instant::now() + STOP_GRACE;
            while let Ok(None) = self.child.try_wait() {
                if Instant::now() > deadline {
                    eprintln!("xtask: {} did not stop in time; killing it", self.name);
                    let _ = self.child.kill();
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        let _ = self.child.wait();
    }
}

/// A port on 127.0.0.1 that nothing listens on now and that is not in `avoid`.
pub fn free_port(avoid: &[u16]) -> Result<u16, String> {
    for _ in 0..50 {
        // Port 0 lets the system pick one that is free.
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .map_err(|e| format!("cannot bind a loopback port: {e}"))?;
        let port = listener
            .local_addr()
            .map_err(|e| format!("cannot read a bound port: {e}"))?
            .port();
        if !avoid.contains(&port) {
            return Ok(port);
        }
    }
    Err("no free loopback port found".into())
}

/// The last lines of a server's log, for an error message.
pub fn log_tail(log: &Path) -> String {
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
fn set_mode(path: &Path, mode: u32) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| format!("cannot set the mode of {}: {e}", path.display()))
}

#[cfg(not(unix))]
fn set_mode(_: &Path, _: u32) -> Result<(), String> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_port_is_bindable_and_avoids_taken_ones() {
        let first = free_port(&[]).unwrap();
        let second = free_port(&[first]).unwrap();
        assert_ne!(first, second);
        assert!(TcpListener::bind(("127.0.0.1", second)).is_ok());
    }

    #[test]
    fn log_tail_keeps_the_last_lines() {
        let path = std::env::temp_dir().join(format!("xtask-log-tail-{}", std::process::id()));
        let text: String = (1..=20).map(|i| format!("line {i}\n")).collect();
        std::fs::write(&path, text).unwrap();
        let tail = log_tail(&path);
        let _ = std::fs::remove_file(&path);
        assert!(tail.contains("line 20") && tail.contains("line 6"));
        assert!(!tail.contains("line 5\n"));
    }
}
