//! Throw-away Redis servers from the local `redis-server`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::host;
use crate::process::{reserve_port, Process};
use crate::tls::{self, TlsCerts};

/// How long a server gets to answer PING after a start or restart (loading a large
/// append-only file included).
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// The binary a throw-away server needs, for messages.
pub const BINARIES: &str = "`redis-server` (on PATH)";
/// The Debian/Ubuntu package with the binary.
pub const DEBIAN_PACKAGE: &str = "redis-server";
/// The Homebrew formula with the binary.
pub const BREW_PACKAGE: &str = "redis";

/// How a [`RedisServer`] keeps its data.
///
/// ```
/// use queue_servers::RedisOptions;
/// let opts = RedisOptions::default().persistent(true);
/// ```
#[derive(Clone, Debug, Default)]
pub struct RedisOptions {
    persistent: bool,
    tls: Option<TlsCerts>,
}

impl RedisOptions {
    /// Keep every write across restarts: an append-only file in the server's temp dir,
    /// fsynced on every write (`appendonly yes`, `appendfsync always`). Off by default:
    /// nothing is written to disk, and a restart starts empty.
    pub fn persistent(mut self, on: bool) -> Self {
        self.persistent = on;
        self
    }

    /// Serve TLS only, with these certificates (clients need not show one of their own);
    /// [`RedisServer::url`] is then `rediss://`. Off by default: plain TCP.
    pub fn tls(mut self, certs: TlsCerts) -> Self {
        self.tls = Some(certs);
        self
    }
}

/// A Redis server of our own on a free loopback port. Its files live in a temp dir until
/// it is dropped, so it can be stopped and started again (keeping its data when
/// [`RedisOptions::persistent`]).
pub struct RedisServer {
    process: Process,
    bin: PathBuf,
    port: u16,
    opts: RedisOptions,
}

impl RedisServer {
    /// Whether the binary is there (see [`BINARIES`]).
    pub fn is_available() -> bool {
        host::which("redis-server").is_some()
    }

    /// Starts a server that keeps nothing on disk, and waits until it answers PING.
    pub fn start() -> Result<RedisServer, String> {
        Self::start_with(RedisOptions::default())
    }

    /// Starts a server with `opts`, and waits until it answers PING.
    pub fn start_with(opts: RedisOptions) -> Result<RedisServer, String> {
        let bin = host::which("redis-server")
            .ok_or_else(|| crate::missing("Redis", BINARIES, DEBIAN_PACKAGE, BREW_PACKAGE))?;
        let server = RedisServer {
            process: Process::new("redis", "TERM")?,
            bin,
            port: reserve_port()?,
            opts,
        };
        server.start_again()?;
        Ok(server)
    }

    /// Like [`RedisServer::start_with`], unless the binary is missing and
    /// `QUEUE_SKIP_SERVERS=1` asks to leave out what needs it: then prints a note and
    /// returns `None`. A missing binary is an error naming what to install otherwise.
    pub fn start_unless_skipped(opts: RedisOptions) -> Result<Option<RedisServer>, String> {
        crate::skip::unless_skipped("Redis", Self::is_available(), || Self::start_with(opts))
    }

    /// `redis://127.0.0.1:PORT`, or `rediss://127.0.0.1:PORT` with [`RedisOptions::tls`].
    pub fn url(&self) -> String {
        let scheme = if self.opts.tls.is_some() {
            "rediss"
        } else {
            "redis"
        };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// The port it listens on, the same across restarts.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server cleanly (SIGTERM: clients are disconnected, the append-only file
    /// is flushed) and waits until it has exited. A no-op when it is not running.
    pub fn stop(&self) -> Result<(), String> {
        self.process.stop()
    }

    /// Starts the stopped server again on the same port and dir (reloading its data when
    /// persistent), and waits until it answers PING.
    pub fn start_again(&self) -> Result<(), String> {
        let dir = self.process.dir();
        let log = dir.join("redis.log");
        let port = self.port.to_string();
        let mut server = Command::new(&self.bin);
        server
            .args(["--bind", "127.0.0.1"])
            .args(["--daemonize", "no", "--save", ""])
            .arg("--dir")
            .arg(dir)
            .current_dir(dir);
        if self.opts.persistent {
            server.args(["--appendonly", "yes", "--appendfsync", "always"]);
        } else {
            // Nothing on disk (no RDB snapshots, no AOF): the data is thrown away.
            server.args(["--appendonly", "no"]);
        }
        let Some(certs) = &self.opts.tls else {
            server.args(["--port", &port]);
            self.process.spawn(&mut server, &log)?;
            return self.process.wait_ready(START_TIMEOUT, &log, || {
                if ping(self.port) {
                    Ok(())
                } else {
                    Err("no PONG yet".into())
                }
            });
        };
        let files = tls::write(certs, dir, None)?;
        server
            .args(["--port", "0", "--tls-port", &port])
            .arg("--tls-cert-file")
            .arg(&files.cert)
            .arg("--tls-key-file")
            .arg(&files.key)
            .arg("--tls-ca-cert-file")
            .arg(&files.ca)
            .args(["--tls-auth-clients", "no"]);
        // PING needs a TLS client here; the log says when the data is loaded and the
        // server accepts connections (it is appended to, so count this start's line).
        let before = ready_lines(&log);
        self.process.spawn(&mut server, &log)?;
        self.process.wait_ready(START_TIMEOUT, &log, || {
            if ready_lines(&log) > before && host::listening(self.port) {
                Ok(())
            } else {
                Err("not accepting connections yet".into())
            }
        })
    }

    /// [`RedisServer::stop`], then [`RedisServer::start_again`].
    pub fn restart(&self) -> Result<(), String> {
        self.stop()?;
        self.start_again()
    }
}

/// How many times the log at `log` says the server is ready.
fn ready_lines(log: &std::path::Path) -> usize {
    std::fs::read_to_string(log)
        .map(|text| text.matches("Ready to accept connections").count())
        .unwrap_or(0)
}

/// Whether a Redis on 127.0.0.1:`port` answers PING (plain RESP, so no redis-cli needed).
/// A server still loading its data answers `-LOADING`, which is a no.
pub fn ping(port: u16) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let Ok(mut conn) = TcpStream::connect_timeout(&addr, Duration::from_secs(1)) else {
        return false;
    };
    let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
    let mut reply = [0u8; 7];
    conn.write_all(b"PING\r\n").is_ok()
        && conn.read_exact(&mut reply).is_ok()
        && reply == *b"+PONG\r\n"
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// Sends one command in RESP and returns the raw reply.
    fn command(port: u16, args: &[&str]) -> String {
        let mut conn = TcpStream::connect(("127.0.0.1", port)).unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut msg = format!("*{}\r\n", args.len());
        for a in args {
            msg.push_str(&format!("${}\r\n{a}\r\n", a.len()));
        }
        conn.write_all(msg.as_bytes()).unwrap();
        let mut reply = vec![0u8; 64];
        let n = conn.read(&mut reply).unwrap();
        String::from_utf8_lossy(&reply[..n]).into_owned()
    }

    fn restarted_value(opts: RedisOptions) -> Option<String> {
        let redis = RedisServer::start_unless_skipped(opts).unwrap()?;
        let dir = redis.process.dir().to_path_buf();
        assert_eq!(command(redis.port(), &["SET", "k", "kept"]), "+OK\r\n");
        redis.stop().unwrap();
        assert!(!ping(redis.port()), "a stopped server answers");
        redis.start_again().unwrap();
        let got = command(redis.port(), &["GET", "k"]);
        drop(redis);
        assert!(!dir.exists(), "the temp dir is left behind");
        Some(got)
    }

    #[test]
    fn a_persistent_server_keeps_its_data_across_a_restart() {
        if let Some(got) = restarted_value(RedisOptions::default().persistent(true)) {
            assert_eq!(got, "$4\r\nkept\r\n");
        }
    }

    #[cfg(feature = "certs")]
    #[test]
    fn a_tls_server_speaks_only_tls_and_comes_back_after_a_restart() {
        let opts = RedisOptions::default().tls(TlsCerts::generate().unwrap());
        let Some(redis) = RedisServer::start_unless_skipped(opts).unwrap() else {
            return;
        };
        assert_eq!(redis.url(), format!("rediss://127.0.0.1:{}", redis.port()));
        assert!(host::listening(redis.port()));
        assert!(!ping(redis.port()), "plain RESP answered on the TLS port");
        redis.restart().unwrap();
        assert!(host::listening(redis.port()));
    }

    #[test]
    fn a_plain_server_starts_empty_after_a_restart() {
        if let Some(got) = restarted_value(RedisOptions::default()) {
            assert_eq!(got, "$-1\r\n");
        }
    }
}
