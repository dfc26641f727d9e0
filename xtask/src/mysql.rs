//! A MySQL or MariaDB found on the default port: checks that root logs in over TCP
//! without a password, as the default URL does, and that database `test` exists, with the
//! client program (`mariadb`, else `mysql`) when there is one.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use queue_servers::host;

/// A client run as the tests connect: root, empty password, TCP to 127.0.0.1:`port`.
/// No option files: a password in `~/.my.cnf` would hide what the tests will meet.
fn client_cmd(program: &Path, port: u16) -> Command {
    let mut cmd = Command::new(program);
    cmd.args(["--no-defaults", "--protocol=TCP", "-h", "127.0.0.1"])
        .arg(format!("--port={port}"))
        .args(["--user=root", "--password=", "--connect-timeout=5", "-e"])
        .stdin(Stdio::null());
    cmd
}

fn first_line(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .next()
        .unwrap_or("")
        .trim()
        .to_string()
}

/// For a server found on the default port: creates database `test` when it is missing
/// and the client is there to ask. Returns a note for the service's line.
pub fn check_default(port: u16) -> String {
    let Some(client) = host::which("mariadb").or_else(|| host::which("mysql")) else {
        return "no mariadb or mysql client to check for database test; using it as is".into();
    };
    let probe = client_cmd(&client, port).arg("USE test").output();
    let out = match probe {
        Ok(out) if out.status.success() => return "database test is there".into(),
        Ok(out) => out,
        Err(e) => return format!("cannot run {} ({e}); using it as is", client.display()),
    };
    let err = first_line(&out);
    if !err.contains("Unknown database") {
        // Most likely root wants a password or the unix socket: the tests will say so,
        // naming MYSQL_URL.
        return format!("root cannot log in without a password over TCP ({err}); using it as is");
    }
    match client_cmd(&client, port)
        .arg("CREATE DATABASE IF NOT EXISTS test")
        .output()
    {
        Ok(out) if out.status.success() => "created database test".into(),
        Ok(out) => format!("cannot create database test ({})", first_line(&out)),
        Err(e) => format!("cannot run {} ({e})", client.display()),
    }
}
