//! A Postgres found on the default port: checks its `test` database with the client
//! programs (which, unlike a throw-away server's trust, may need a password from the
//! user's own settings).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use queue_servers::{host, postgres::bindir};

/// A client program (`psql`, `createdb`): next to the server binaries, else on PATH.
fn client(name: &str, bindir: Option<&Path>) -> Option<PathBuf> {
    bindir
        .map(|d| d.join(name))
        .filter(|p| host::is_executable(p))
        .or_else(|| host::which(name))
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
