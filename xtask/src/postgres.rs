//! Postgres for the tests: checks the `test` database of a server found on the default
//! port, and starts throw-away servers from the local binaries.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::throwaway::{log_tail, Throwaway};

/// Where Debian and Ubuntu keep the server binaries, one directory per major version.
const DEBIAN_ROOT: &str = "/usr/lib/postgresql";

/// How long a fresh server gets to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A directory holding both `initdb` and `postgres`: on PATH first (what the user chose),
/// then Debian's versioned directories, newest first (not on PATH there).
pub fn bindir() -> Option<PathBuf> {
    let mut candidates = crate::host::path_dirs();
    let versions = std::fs::read_dir(DEBIAN_ROOT)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    candidates.extend(
        newest_first(versions)
            .into_iter()
            .map(|v| Path::new(DEBIAN_ROOT).join(v).join("bin")),
    );
    candidates.into_iter().find(|dir| {
        crate::host::is_executable(&dir.join("initdb"))
            && crate::host::is_executable(&dir.join("postgres"))
    })
}

/// Version directory names ("9.6", "15", "16") sorted newest first; others dropped.
pub fn newest_first(mut versions: Vec<String>) -> Vec<String> {
    fn key(v: &str) -> Option<Vec<u32>> {
        v.split('.').map(|p| p.parse().ok()).collect()
    }
    versions.retain(|v| key(v).is_some());
    versions.sort_by_key(|v| std::cmp::Reverse(key(v)));
    versions
}

/// A client program (`psql`, `createdb`): next to the server binaries, else on PATH.
fn client(name: &str, bindir: Option<&Path>) -> Option<PathBuf> {
    bindir
        .map(|d| d.join(name))
        .filter(|p| crate::host::is_executable(p))
        .or_else(|| crate::host::which(name))
}

/// A client command that never prompts for a password and gives up on a dead server.
fn client_cmd(program: &Path, port: u16) -> Command {
    let mut cmd = Command::new(program);
    cmd.args([
        "-w",
        "-h",
        "127.0.0.1",
        "-p",
        &port.to_string(),
        "-U",
        "postgres",
    ])
    .env("PGCONNECT_TIMEOUT", "5")
    .stdin(Stdio::null());
    cmd
}

/// Creates database `test` with `createdb`, else `psql`.
fn create_test_db(bindir: Option<&Path>, port: u16) -> Result<Output, String> {
    if let Some(createdb) = client("createdb", bindir) {
        return client_cmd(&createdb, port)
            .arg("test")
            .output()
            .map_err(|e| format!("cannot run {}: {e}", createdb.display()));
    }
    if let Some(psql) = client("psql", bindir) {
        return client_cmd(&psql, port)
            .args(["-X", "-d", "postgres", "-c", "CREATE DATABASE test"])
            .output()
            .map_err(|e| format!("cannot run {}: {e}", psql.display()));
    }
    Err(
        "neither `createdb` nor `psql` was found to create database `test` \
         (Debian: apt-get install postgresql-client)"
            .into(),
    )
}

fn first_line(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .next()
        .unwrap_or("")
        .trim()
        .to_string()
}

/// For a server found on the default port: makes sure database `test` exists, when
/// `psql` is there to ask. Returns a note for the service's line.
pub fn check_default(port: u16) -> String {
    let bindir = bindir();
    let Some(psql) = client("psql", bindir.as_deref()) else {
        return "no psql to check for database test; using it as is".into();
    };
    let probe = client_cmd(&psql, port)
        .args(["-X", "-At", "-d", "test", "-c", "SELECT 1"])
        .output();
    let out = match probe {
        Ok(out) if out.status.success() => return "database test is there".into(),
        Ok(out) => out,
        Err(e) => return format!("cannot run psql ({e}); using it as is"),
    };
    let err = first_line(&out);
    if !err.contains("does not exist") {
        // Most likely a password is wanted: the tests will say so, naming DATABASE_URL.
        return format!("psql cannot connect to database test ({err}); using it as is");
    }
    match create_test_db(bindir.as_deref(), port) {
        Ok(out) if out.status.success() => "created database test".into(),
        Ok(out) => format!("cannot create database test ({})", first_line(&out)),
        Err(e) => e,
    }
}

/// Starts a throw-away server on a free port and returns its URL.
pub fn start(t: &Throwaway) -> Result<String, String> {
    let bin = bindir().ok_or("no `initdb` and `postgres` binaries found")?;
    let owner = crate::host::server_user("postgres")?;
    let dir = t.subdir("postgres")?;
    if let Some(ids) = owner {
        crate::host::chown(&dir, ids)?;
    }
    let data = dir.join("data");

    // Trust auth over TCP as user postgres, like the default URL; no fsync: the data is
    // thrown away. Its cwd is the temp dir, which the postgres user can enter.
    let init_log = dir.join("initdb.log");
    let log_file = std::fs::File::create(&init_log)
        .map_err(|e| format!("cannot create {}: {e}", init_log.display()))?;
    let mut initdb = Command::new(bin.join("initdb"));
    initdb
        .arg("-D")
        .arg(&data)
        .args([
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
        ])
        .arg("--no-sync")
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(
            log_file
                .try_clone()
                .map_err(|e| format!("cannot open {}: {e}", init_log.display()))?,
        )
        .stderr(log_file);
    crate::host::run_as(&mut initdb, owner);
    let status = initdb
        .status()
        .map_err(|e| format!("cannot run {}: {e}", bin.join("initdb").display()))?;
    if !status.success() {
        return Err(format!("initdb failed ({status}); {}", log_tail(&init_log)));
    }

    let port = t.port()?;
    let log = dir.join("postgres.log");
    let mut server = Command::new(bin.join("postgres"));
    server
        .arg("-D")
        .arg(&data)
        .arg("-k")
        .arg(&dir)
        .args([
            "-p",
            &port.to_string(),
            "-c",
            "listen_addresses=127.0.0.1",
            "-F",
        ])
        .current_dir(&dir);
    crate::host::run_as(&mut server, owner);
    t.spawn("postgres", &mut server, "INT", &log)?;

    // Creating the database doubles as the readiness check: it fails until the server
    // accepts connections.
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if let Some(status) = t.exited("postgres") {
            return Err(format!("postgres exited ({status}); {}", log_tail(&log)));
        }
        let out = create_test_db(Some(&bin), port)?;
        if out.status.success() {
            return Ok(format!("postgres://postgres@127.0.0.1:{port}/test"));
        }
        if Instant::now() > deadline {
            return Err(format!(
                "postgres did not accept connections within {}s (createdb: {}); {}",
                START_TIMEOUT.as_secs(),
                first_line(&out),
                log_tail(&log)
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_sort_numerically_newest_first() {
        let got = newest_first(
            ["9.6", "15", "16", "10", "README"]
                .map(String::from)
                .to_vec(),
        );
        assert_eq!(got, ["16", "15", "10", "9.6"]);
    }
}
