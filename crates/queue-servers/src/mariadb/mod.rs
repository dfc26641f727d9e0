//! Throw-away MariaDB (or MySQL) servers from the local `mariadb-install-db` and
//! `mariadbd` binaries.

mod wire;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::host;
use crate::process::{log_tail, reserve_port, Process};

/// How long a server gets to accept connections after a start or restart (crash
/// recovery included).
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The binaries a throw-away server needs, for messages.
pub const BINARIES: &str = "`mariadb-install-db` and `mariadbd` (or `mysql_install_db` and \
                            `mysqld`; on PATH, in /usr/sbin, /usr/libexec or /usr/local/mysql/bin)";
/// The Debian/Ubuntu package with the binaries.
pub const DEBIAN_PACKAGE: &str = "mariadb-server";
/// The Homebrew formula with the binaries.
pub const BREW_PACKAGE: &str = "mariadb";

/// The server's names, newest first.
const SERVER_NAMES: &[&str] = &["mariadbd", "mysqld"];
/// The data-directory makers' names, newest first.
const INSTALL_NAMES: &[&str] = &["mariadb-install-db", "mysql_install_db"];
/// Where servers live off PATH (Debian: /usr/sbin; Fedora: /usr/libexec; tarballs:
/// /usr/local/mysql/bin).
const EXTRA_DIRS: &[&str] = &["/usr/sbin", "/usr/libexec", "/usr/local/mysql/bin"];

/// The user [`MariaDbServer::url`] connects as, with an empty password.
const USER: &str = "root";
/// The database made on the first start, named in [`MariaDbServer::url`].
const DATABASE: &str = "test";

/// Run on every start: root with an empty password from any loopback address, and the
/// `test` database. Idempotent, so a restart finds things as they were.
const INIT_SQL: &str = include_str!("init.sql");

/// A MariaDB server of our own on a free loopback port (TCP only on 127.0.0.1, plus a
/// socket in its temp dir), where `root` logs in without a password and database `test`
/// exists. Its data lives in a temp dir until it is dropped, so it can be stopped and
/// started again with everything kept. Durability settings are the server's defaults.
///
/// When we run as root it runs as root too (`--user=root`): the data is thrown away, and
/// no other OS user needs to enter its dir.
pub struct MariaDbServer {
    process: Process,
    server: PathBuf,
    as_root: bool,
    port: u16,
}

impl MariaDbServer {
    /// Whether the binaries are there (see [`BINARIES`]).
    pub fn is_available() -> bool {
        binaries().is_some()
    }

    /// Makes a new data directory (`mariadb-install-db`), starts the server, and waits
    /// until `root` can log in to database `test`.
    pub fn start() -> Result<MariaDbServer, String> {
        let (install, server) = binaries()
            .ok_or_else(|| crate::missing("MariaDB", BINARIES, DEBIAN_PACKAGE, BREW_PACKAGE))?;
        let as_root = host::is_root();
        let process = Process::new("mariadb", "TERM")?;
        init_retrying(&install, process.dir(), as_root)?;
        let init_file = process.dir().join("init.sql");
        std::fs::write(&init_file, INIT_SQL)
            .map_err(|e| format!("cannot write {}: {e}", init_file.display()))?;
        let server = MariaDbServer {
            process,
            server,
            as_root,
            port: reserve_port()?,
        };
        server.start_again()?;
        Ok(server)
    }

    /// Like [`MariaDbServer::start`], unless the binaries are missing and
    /// `QUEUE_SKIP_SERVERS=1` asks to leave out what needs them: then prints a note and
    /// returns `None`. Missing binaries are an error naming what to install otherwise.
    pub fn start_unless_skipped() -> Result<Option<MariaDbServer>, String> {
        crate::skip::unless_skipped("MariaDB", Self::is_available(), Self::start)
    }

    /// `mysql://root@127.0.0.1:PORT/test`.
    pub fn url(&self) -> String {
        format!("mysql://{USER}@127.0.0.1:{}/{DATABASE}", self.port)
    }

    /// The port it listens on, the same across restarts.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server (SIGTERM: connections are closed, open transactions roll back,
    /// InnoDB's default fast shutdown) and waits until it has exited. A no-op when it is
    /// not running.
    pub fn stop(&self) -> Result<(), String> {
        self.process.stop()
    }

    /// Starts the stopped server again on the same data and port, and waits until `root`
    /// can log in to database `test`.
    pub fn start_again(&self) -> Result<(), String> {
        let dir = self.process.dir();
        let log = dir.join("mariadb.log");
        let mut server = Command::new(&self.server);
        // --no-defaults first (the server insists): the host's my.cnf names its own
        // datadir, port and socket. The error log goes to stderr, so into our log.
        server
            .arg("--no-defaults")
            .arg(format!("--datadir={}", dir.join("data").display()))
            .arg(format!("--socket={}", dir.join("sock").display()))
            .arg(format!("--pid-file={}", dir.join("mariadb.pid").display()))
            .arg(format!("--init-file={}", dir.join("init.sql").display()))
            .arg(format!("--port={}", self.port))
            .args(["--bind-address=127.0.0.1", "--skip-name-resolve"])
            // As Debian's and the Docker image's servers: utf8mb4, not latin1.
            .arg("--character-set-server=utf8mb4")
            // Performance only: tests and benches open many pools at once.
            .args(["--innodb-buffer-pool-size=128M", "--max-connections=500"])
            .current_dir(dir);
        if self.as_root {
            server.arg("--user=root");
        }
        self.process.spawn(&mut server, &log)?;
        self.process.wait_ready(START_TIMEOUT, &log, || {
            wire::Conn::open(self.port, USER, Some(DATABASE)).map(drop)
        })
    }

    /// [`MariaDbServer::stop`], then [`MariaDbServer::start_again`].
    pub fn restart(&self) -> Result<(), String> {
        self.stop()?;
        self.start_again()
    }
}

/// [`init`], tried again into a fresh data directory when it fails: several throw-away
/// servers bootstrapping at once on a loaded machine have been seen to fail one of them.
fn init_retrying(install: &Path, dir: &Path, as_root: bool) -> Result<(), String> {
    const TRIES: u64 = 3;
    let mut tried = 1;
    loop {
        match init(install, dir, as_root) {
            Err(e) if tried < TRIES => {
                eprintln!("queue-servers: MariaDB: {e}; trying again");
                let _ = std::fs::remove_dir_all(dir.join("data"));
                std::thread::sleep(std::time::Duration::from_millis(500 * tried));
                tried += 1;
            }
            other => return other,
        }
    }
}

/// `mariadb-install-db` into `dir/data`: the system tables, with `root` logging in
/// without a password (not the socket-only root of Debian's default).
fn init(install: &Path, dir: &Path, as_root: bool) -> Result<(), String> {
    let log = dir.join("install-db.log");
    let out =
        std::fs::File::create(&log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
    let err = out
        .try_clone()
        .map_err(|e| format!("cannot open {}: {e}", log.display()))?;
    let mut cmd = Command::new(install);
    cmd.arg("--no-defaults")
        .arg(format!("--datadir={}", dir.join("data").display()))
        .args(["--auth-root-authentication-method=normal", "--skip-test-db"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err);
    if as_root {
        cmd.arg("--user=root");
    }
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run {}: {e}", install.display()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "{} failed ({status}); {}",
            install.display(),
            log_tail(&log)
        ))
    }
}

/// The data-directory maker and the server, each the first found on PATH (what the user
/// chose), then in the usual places off PATH.
pub fn binaries() -> Option<(PathBuf, PathBuf)> {
    let mut dirs = host::path_dirs();
    dirs.extend(EXTRA_DIRS.iter().map(PathBuf::from));
    let find = |names: &[&str]| {
        names.iter().find_map(|name| {
            dirs.iter()
                .map(|d| d.join(name))
                .find(|p| host::is_executable(p))
        })
    };
    Some((find(INSTALL_NAMES)?, find(SERVER_NAMES)?))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// A stand-in for `mariadb-install-db` that fails on its first run in `dir` and
    /// succeeds after, as one bootstrap among several at once did under load.
    fn flaky_install(dir: &Path) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let script = dir.join("flaky-install-db");
        std::fs::write(
            &script,
            "#!/bin/sh\nif [ -e ran-once ]; then exit 0; fi\ntouch ran-once\necho bootstrap failed\nexit 1\n",
        )
        .unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        script
    }

    #[test]
    fn a_failed_install_is_tried_again() {
        let dir = std::env::temp_dir().join(format!("queue-servers-flaky-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let install = flaky_install(&dir);
        let first = init(&install, &dir, false);
        assert!(first.is_err(), "the stand-in fails its first run");
        std::fs::remove_file(dir.join("ran-once")).unwrap();
        let retried = init_retrying(&install, &dir, false);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(retried, Ok(()));
    }

    #[test]
    fn keeps_its_data_and_port_across_restarts_and_cleans_up() {
        let Some(db) = MariaDbServer::start_unless_skipped().unwrap() else {
            return;
        };
        let dir = db.process.dir().to_path_buf();
        let open = || wire::Conn::open(db.port(), USER, Some(DATABASE));
        let mut conn = open().unwrap();
        conn.query("CREATE TABLE kept (n int) ENGINE=InnoDB")
            .unwrap();
        conn.query("INSERT INTO kept VALUES (1)").unwrap();
        let err = conn.query("SELECT * FROM nowhere").unwrap_err();
        assert!(err.contains("doesn't exist"), "{err}");
        let version = conn.query("SELECT VERSION()").unwrap();
        assert_eq!(version.len(), 1, "{version:?}");
        drop(conn);

        db.stop().unwrap();
        assert!(open().is_err(), "a stopped server accepts connections");
        db.stop().unwrap();
        db.start_again().unwrap();
        assert!(db.start_again().is_err(), "started twice");
        let kept = |conn: &mut wire::Conn| conn.query("SELECT n FROM kept").unwrap();
        assert_eq!(kept(&mut open().unwrap()), [[Some("1".to_string())]]);
        db.restart().unwrap();
        assert_eq!(kept(&mut open().unwrap()), [[Some("1".to_string())]]);
        assert_eq!(
            db.url(),
            format!("mysql://root@127.0.0.1:{}/test", db.port())
        );

        drop(db);
        assert!(!dir.exists(), "the temp dir is left behind");
    }

    #[test]
    fn root_needs_no_password_and_the_init_file_is_idempotent() {
        let Some(db) = MariaDbServer::start_unless_skipped().unwrap() else {
            return;
        };
        let mut conn = wire::Conn::open(db.port(), USER, None).unwrap();
        for statement in INIT_SQL.lines().filter(|l| !l.trim().is_empty()) {
            conn.query(statement).unwrap();
        }
        let users = conn
            .query("SELECT host FROM mysql.user WHERE user = 'root' ORDER BY host")
            .unwrap();
        for host in ["127.0.0.1", "::1", "localhost"] {
            assert!(
                users.iter().any(|r| r[0].as_deref() == Some(host)),
                "no root@{host}: {users:?}"
            );
        }
        let charset = conn.query("SELECT @@character_set_server").unwrap();
        assert_eq!(charset, [[Some("utf8mb4".to_string())]]);
    }
}
