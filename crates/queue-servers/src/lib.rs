//! Throw-away Postgres, Redis and MariaDB servers for the queue workspace's tests and tools.
//!
//! Each server is started from the local binaries on a free loopback port, keeps its
//! files in a temp dir of its own, can be stopped and started again on the same data and
//! port (to test what a client does when its server restarts), and is stopped and removed
//! when dropped. Blocking std code, no async runtime needed.
//!
//! ```no_run
//! use queue_servers::{MariaDbServer, PostgresServer, RedisOptions, RedisServer};
//!
//! let pg = PostgresServer::start()?;
//! let url = pg.url(); // postgres://postgres@127.0.0.1:PORT/test
//! pg.stop()?; // fast shutdown: connections drop
//! pg.start_again()?; // same data, same port
//!
//! // Keeps every write across restarts (append-only file, fsync always).
//! let redis = RedisServer::start_with(RedisOptions::default().persistent(true))?;
//! redis.restart()?;
//!
//! // MariaDB (or MySQL): root without a password, database `test`.
//! let db = MariaDbServer::start()?;
//! let mysql_url = db.url(); // mysql://root@127.0.0.1:PORT/test
//! db.restart()?; // same data, same port
//! # Ok::<(), String>(())
//! ```
//!
//! The Postgres and Redis servers can serve TLS ([`RedisOptions::tls`], [`PostgresOptions::tls`]) with a
//! [`TlsCerts`]; the `certs` feature generates those (a CA of its own and a certificate
//! for `127.0.0.1` and `localhost`).
//!
//! A test that needs a server but may run where there is none uses the
//! `start_unless_skipped` forms: they fail naming what to install, unless
//! `QUEUE_SKIP_SERVERS=1`, when they print a note and return `None`. A program that
//! exits from a signal handler calls [`stop_all`] first, since `exit` skips destructors.

pub mod host;
pub mod mariadb;
pub mod postgres;
mod process;
pub mod redis;
mod skip;
mod tls;

pub use mariadb::MariaDbServer;
pub use postgres::{PostgresOptions, PostgresServer};
pub use process::stop_all;
pub use redis::{RedisOptions, RedisServer};
pub use skip::{skip_requested, SKIP_VAR};
pub use tls::TlsCerts;

/// The error for missing server binaries: what they are and how to install them.
fn missing(what: &str, binaries: &str, debian: &str, brew: &str) -> String {
    format!(
        "no {what} binaries found: {binaries}. Install them (Debian/Ubuntu: `apt-get install \
         {debian}`; macOS: `brew install {brew}`), or set {SKIP_VAR}=1 to leave out what \
         needs {what}."
    )
}
