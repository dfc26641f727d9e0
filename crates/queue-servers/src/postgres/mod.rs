//! Throw-away Postgres servers from the local `initdb` and `postgres` binaries.

mod wire;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::host;
use crate::process::{log_tail, reserve_port, Process};
use crate::tls::{self, TlsCerts, TlsFiles};

/// Where Debian and Ubuntu keep the server binaries, one directory per major version.
const DEBIAN_ROOT: &str = "/usr/lib/postgresql";

/// How long a server gets to accept connections after a start or restart.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The binaries a throw-away server needs, for messages.
pub const BINARIES: &str = "`initdb` and `postgres` (on PATH or in /usr/lib/postgresql/*/bin)";
/// The Debian/Ubuntu package with the binaries.
pub const DEBIAN_PACKAGE: &str = "postgresql";
/// The Homebrew formula with the binaries.
pub const BREW_PACKAGE: &str = "postgresql";

/// The user the server runs as, and the one [`PostgresServer::url`] connects as.
const USER: &str = "postgres";
/// The database made on the first start, named in [`PostgresServer::url`].
const DATABASE: &str = "test";

/// How a [`PostgresServer`] is set up.
///
/// ```
/// use queue_servers::PostgresOptions;
/// let opts = PostgresOptions::default();
/// ```
#[derive(Clone, Debug, Default)]
pub struct PostgresOptions {
    tls: Option<TlsCerts>,
}

impl PostgresOptions {
    /// Serve TLS too (`ssl=on`) with these certificates; [`PostgresServer::url`] then asks
    /// for it, verified against their CA. Off by default. Plain connections are still
    /// accepted, as with a default `pg_hba.conf`.
    pub fn tls(mut self, certs: TlsCerts) -> Self {
        self.tls = Some(certs);
        self
    }
}

/// A Postgres server of our own on a free loopback port, with trust authentication for
/// user `postgres` and a database `test`. Its data lives in a temp dir until it is
/// dropped, so it can be stopped and started again with everything kept.
///
/// When we run as root it runs as the `postgres` OS user, since Postgres refuses root.
pub struct PostgresServer {
    process: Process,
    bin: PathBuf,
    owner: Option<(u32, u32)>,
    port: u16,
    tls: Option<TlsFiles>,
}

impl PostgresServer {
    /// Whether the binaries are there (see [`BINARIES`]).
    pub fn is_available() -> bool {
        bindir().is_some()
    }

    /// Makes a new cluster (initdb), starts it, waits until it accepts connections, and
    /// creates database `test`.
    pub fn start() -> Result<PostgresServer, String> {
        Self::start_with(PostgresOptions::default())
    }

    /// Like [`PostgresServer::start`], set up as `opts` say.
    pub fn start_with(opts: PostgresOptions) -> Result<PostgresServer, String> {
        let bin = bindir()
            .ok_or_else(|| crate::missing("Postgres", BINARIES, DEBIAN_PACKAGE, BREW_PACKAGE))?;
        let owner = host::server_user(USER)?;
        let process = Process::new("postgres", "INT")?;
        if let Some(ids) = owner {
            host::chown(process.dir(), ids)?;
        }
        init(&bin, process.dir(), owner)?;
        let tls = match &opts.tls {
            Some(certs) => Some(tls::write(certs, process.dir(), owner)?),
            None => None,
        };
        let server = PostgresServer {
            process,
            bin,
            owner,
            port: reserve_port()?,
            tls,
        };
        server.start_again()?;
        wire::Conn::open(server.port, USER, "postgres")
            .and_then(|mut c| c.execute(&format!("CREATE DATABASE {DATABASE}")))
            .map_err(|e| format!("cannot create database {DATABASE}: {e}"))?;
        Ok(server)
    }

    /// Like [`PostgresServer::start`], unless the binaries are missing and
    /// `QUEUE_SKIP_SERVERS=1` asks to leave out what needs them: then prints a note and
    /// returns `None`. Missing binaries are an error naming what to install otherwise.
    pub fn start_unless_skipped() -> Result<Option<PostgresServer>, String> {
        Self::start_with_unless_skipped(PostgresOptions::default())
    }

    /// [`PostgresServer::start_unless_skipped`] with `opts`.
    pub fn start_with_unless_skipped(
        opts: PostgresOptions,
    ) -> Result<Option<PostgresServer>, String> {
        crate::skip::unless_skipped("Postgres", Self::is_available(), || Self::start_with(opts))
    }

    /// `postgres://postgres@127.0.0.1:PORT/test`; with [`PostgresOptions::tls`], followed
    /// by `?sslmode=verify-full&sslrootcert=` and [`PostgresServer::ca_file`].
    pub fn url(&self) -> String {
        let url = format!("postgres://{USER}@127.0.0.1:{}/{DATABASE}", self.port);
        match &self.tls {
            Some(files) => format!(
                "{url}?sslmode=verify-full&sslrootcert={}",
                files.ca.display()
            ),
            None => url,
        }
    }

    /// The CA certificate file of a TLS server (see [`PostgresOptions::tls`]).
    pub fn ca_file(&self) -> Option<&Path> {
        self.tls.as_ref().map(|files| files.ca.as_path())
    }

    /// The port it listens on, the same across restarts.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server with a fast shutdown (open transactions roll back, connections
    /// are closed) and waits until it has exited. A no-op when it is not running.
    pub fn stop(&self) -> Result<(), String> {
        self.process.stop()
    }

    /// Starts the stopped server again on the same data and port, and waits until it
    /// accepts connections.
    pub fn start_again(&self) -> Result<(), String> {
        let dir = self.process.dir();
        let log = dir.join("postgres.log");
        // No fsync (-F): a clean shutdown still writes everything out, and the data is
        // thrown away. Its cwd is the temp dir, which the postgres user can enter.
        let mut server = Command::new(self.bin.join("postgres"));
        server
            .arg("-D")
            .arg(dir.join("data"))
            .arg("-k")
            .arg(dir)
            .args(["-p", &self.port.to_string()])
            .args(["-c", "listen_addresses=127.0.0.1", "-F"])
            .current_dir(dir);
        if let Some(files) = &self.tls {
            server
                .args(["-c", "ssl=on"])
                .arg("-c")
                .arg(format!("ssl_cert_file={}", files.cert.display()))
                .arg("-c")
                .arg(format!("ssl_key_file={}", files.key.display()));
        }
        host::run_as(&mut server, self.owner);
        self.process.spawn(&mut server, &log)?;
        self.process.wait_ready(START_TIMEOUT, &log, || {
            wire::Conn::open(self.port, USER, "postgres").map(drop)
        })
    }

    /// [`PostgresServer::stop`], then [`PostgresServer::start_again`].
    pub fn restart(&self) -> Result<(), String> {
        self.stop()?;
        self.start_again()
    }
}

/// `initdb` into `dir/data`: trust auth over TCP as user postgres, like the URL.
fn init(bin: &Path, dir: &Path, owner: Option<(u32, u32)>) -> Result<(), String> {
    let log = dir.join("initdb.log");
    let out =
        std::fs::File::create(&log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
    let err = out
        .try_clone()
        .map_err(|e| format!("cannot open {}: {e}", log.display()))?;
    let program = bin.join("initdb");
    let mut initdb = Command::new(&program);
    initdb
        .arg("-D")
        .arg(dir.join("data"))
        .args(["-U", USER, "--auth=trust", "--encoding=UTF8", "--locale=C"])
        .arg("--no-sync")
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err);
    host::run_as(&mut initdb, owner);
    let status = initdb
        .status()
        .map_err(|e| format!("cannot run {}: {e}", program.display()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("initdb failed ({status}); {}", log_tail(&log)))
    }
}

/// A directory holding both `initdb` and `postgres`: on PATH first (what the user chose),
/// then Debian's versioned directories, newest first (not on PATH there).
pub fn bindir() -> Option<PathBuf> {
    let mut candidates = host::path_dirs();
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
        host::is_executable(&dir.join("initdb")) && host::is_executable(&dir.join("postgres"))
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn keeps_its_data_and_port_across_restarts_and_cleans_up() {
        let Some(pg) = PostgresServer::start_unless_skipped().unwrap() else {
            return;
        };
        let dir = pg.process.dir().to_path_buf();
        let open = || wire::Conn::open(pg.port(), USER, DATABASE);
        let mut conn = open().unwrap();
        conn.execute("CREATE TABLE kept (n int); INSERT INTO kept VALUES (1)")
            .unwrap();
        let err = conn.execute("SELECT * FROM nowhere").unwrap_err();
        assert!(err.contains("does not exist"), "{err}");
        conn.execute("SELECT 1").unwrap();
        drop(conn);

        pg.stop().unwrap();
        assert!(open().is_err(), "a stopped server accepts connections");
        pg.stop().unwrap();
        pg.start_again().unwrap();
        assert!(pg.start_again().is_err(), "started twice");
        open().unwrap().execute("SELECT n FROM kept").unwrap();
        pg.restart().unwrap();
        open().unwrap().execute("SELECT n FROM kept").unwrap();
        assert!(pg.url().ends_with(&format!(":{}/test", pg.port())));

        drop(pg);
        assert!(!dir.exists(), "the temp dir is left behind");
    }

    #[cfg(feature = "certs")]
    #[test]
    fn a_tls_server_names_its_ca_in_its_url_and_keeps_its_key_private() {
        use std::os::unix::fs::PermissionsExt;

        let certs = TlsCerts::generate().unwrap();
        let opts = PostgresOptions::default().tls(certs.clone());
        let Some(pg) = PostgresServer::start_with_unless_skipped(opts).unwrap() else {
            return;
        };
        let ca = pg.ca_file().unwrap();
        assert_eq!(std::fs::read_to_string(ca).unwrap(), certs.ca_pem);
        assert!(pg.url().ends_with(&format!(
            "?sslmode=verify-full&sslrootcert={}",
            ca.display()
        )));
        let key = std::fs::metadata(pg.process.dir().join("server.key")).unwrap();
        assert_eq!(key.permissions().mode() & 0o777, 0o600);
        // Plain connections still work: the readiness check and this one use them.
        wire::Conn::open(pg.port(), USER, DATABASE).unwrap();
    }

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
