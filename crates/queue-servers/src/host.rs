//! What this machine has: programs on PATH, open ports, the user to run a server as.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The directories of PATH, in order.
pub fn path_dirs() -> Vec<PathBuf> {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default()
}

/// `which name`: the first executable file of that name on PATH.
pub fn which(name: &str) -> Option<PathBuf> {
    path_dirs()
        .into_iter()
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

/// Whether `path` is a file we may run.
#[cfg(unix)]
pub fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Whether `path` is a file we may run.
#[cfg(not(unix))]
pub fn is_executable(path: &Path) -> bool {
    path.is_file()
}

/// Whether something accepts TCP connections on 127.0.0.1:`port`.
pub fn listening(port: u16) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok()
}

/// Runs `cmd` quietly; true if it exits 0 within `timeout` (a hung daemon is a "no").
pub fn succeeds_within(cmd: &mut Command, timeout: Duration) -> bool {
    let Ok(mut child) = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    else {
        return false;
    };
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return status.success(),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return false;
            }
        }
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

/// Parses `id -u` style output.
pub fn parse_id(out: &[u8]) -> Option<u32> {
    std::str::from_utf8(out).ok()?.trim().parse().ok()
}

fn id(args: &[&str]) -> Option<u32> {
    let out = Command::new("id")
        .args(args)
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if out.status.success() {
        parse_id(&out.stdout)
    } else {
        None
    }
}

/// Whether we run as root (uid 0).
pub fn is_root() -> bool {
    id(&["-u"]) == Some(0)
}

/// The (uid, gid) to run a server as: `None` to run it as ourselves, or the ids of `user`
/// when we are root, since Postgres refuses to run as root.
pub fn server_user(user: &str) -> Result<Option<(u32, u32)>, String> {
    if !is_root() {
        return Ok(None);
    }
    match (id(&["-u", user]), id(&["-g", user])) {
        (Some(uid), Some(gid)) => Ok(Some((uid, gid))),
        _ => Err(format!(
            "running as root, which Postgres refuses, and there is no `{user}` user to run \
             it as (create one: `useradd --system {user}`)"
        )),
    }
}

/// Makes `path` belong to `(uid, gid)`.
#[cfg(unix)]
pub fn chown(path: &Path, (uid, gid): (u32, u32)) -> Result<(), String> {
    std::os::unix::fs::chown(path, Some(uid), Some(gid))
        .map_err(|e| format!("cannot chown {}: {e}", path.display()))
}

/// Makes `path` belong to `(uid, gid)`: nothing to do off Unix.
#[cfg(not(unix))]
pub fn chown(_: &Path, _: (u32, u32)) -> Result<(), String> {
    Ok(())
}

/// Runs `cmd` as `(uid, gid)` when given. std also drops root's supplementary groups,
/// and execs the program itself (unlike `su`), so the child is the server to stop.
#[cfg(unix)]
pub fn run_as(cmd: &mut Command, ids: Option<(u32, u32)>) {
    use std::os::unix::process::CommandExt;
    if let Some((uid, gid)) = ids {
        cmd.uid(uid).gid(gid);
    }
}

/// Runs `cmd` as `(uid, gid)`: off Unix, as ourselves.
#[cfg(not(unix))]
pub fn run_as(_: &mut Command, _: Option<(u32, u32)>) {}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn free_port_is_bindable_and_avoids_taken_ones() {
        let first = free_port(&[]).unwrap();
        let second = free_port(&[first]).unwrap();
        assert_ne!(first, second);
        assert!(TcpListener::bind(("127.0.0.1", second)).is_ok());
    }

    #[test]
    fn parses_id_output() {
        assert_eq!(parse_id(b"0\n"), Some(0));
        assert_eq!(parse_id(b"101"), Some(101));
        assert_eq!(parse_id(b"id: 'nobody2': no such user\n"), None);
    }

    #[test]
    fn finds_sh_on_path() {
        assert!(which("sh").is_some());
        assert!(which("surely-not-a-program-queue-servers").is_none());
    }
}
