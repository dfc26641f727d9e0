//! Opening Postgres connections, with errors that say which server and why, never with
//! the password. A pool retries refused connections until its acquire timeout and then
//! only says "pool timed out", so the queue opens one connection itself first.

use std::str::FromStr;
use std::time::Duration;

use queue_core::{redact_url, QueueError, Result};
use sqlx::postgres::{PgConnectOptions, PgSslMode};

use crate::classify::{is_transient, sqlstate_is_transient};
use crate::connect_error::Database;

/// How connection errors name the server, and the setting that trusts a private CA.
const POSTGRES: Database = Database {
    name: "Postgres",
    ca_setting: "sslrootcert",
};

/// Parses a `postgres://` URL; a bad one is a configuration error that shows the URL
/// with its password hidden. So is one that demands TLS from a build without it.
pub(crate) fn parse_url(url: &str) -> Result<PgConnectOptions> {
    let opts = PgConnectOptions::from_str(url).map_err(|e| {
        QueueError::InvalidConfig(format!("bad Postgres URL {}: {e}", redact_url(url)))
    })?;
    check_tls(&opts)?;
    Ok(opts)
}

/// Refuses an `sslmode` that requires TLS when no TLS feature is compiled in, with the
/// fix, rather than the driver's message at the first connection.
pub(crate) fn check_tls(opts: &PgConnectOptions) -> Result<()> {
    let mode = match opts.get_ssl_mode() {
        PgSslMode::Require => "require",
        PgSslMode::VerifyCa => "verify-ca",
        PgSslMode::VerifyFull => "verify-full",
        PgSslMode::Disable | PgSslMode::Allow | PgSslMode::Prefer => return Ok(()),
    };
    if cfg!(any(feature = "tls-rustls", feature = "tls-native")) {
        return Ok(());
    }
    Err(QueueError::InvalidConfig(format!(
        "sslmode={mode} needs the tls-rustls or tls-native feature of queue-sql"
    )))
}

/// Where `opts` connect to, for messages: `host:port` (or the socket) and the database.
pub(crate) fn target(opts: &PgConnectOptions) -> String {
    let server = match opts.get_socket() {
        Some(dir) => format!("{}:{}", dir.display(), opts.get_port()),
        None => format!("{}:{}", opts.get_host(), opts.get_port()),
    };
    match opts.get_database() {
        Some(db) => format!("{server}/{db}"),
        None => server,
    }
}

/// Opens one connection and closes it again, within `timeout`; the error names the server
/// and the reason.
pub(crate) async fn probe(opts: &PgConnectOptions, timeout: Duration) -> Result<()> {
    let transient = |e: &sqlx::Error| is_transient(e, sqlstate_is_transient);
    crate::connect_error::probe(opts, POSTGRES, target(opts), timeout, transient).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_and_bad_urls_never_show_the_password() {
        let opts = parse_url("postgres://app:s3cret@db.example:6432/jobs").unwrap_or_else(|e| {
            panic!("{e}");
        });
        assert_eq!(target(&opts), "db.example:6432/jobs");
        let e = parse_url("postgres://app:s3cret@db.example:99999999/jobs")
            .err()
            .map(|e| format!("{e} {e:?}"))
            .unwrap_or_default();
        assert!(e.contains("db.example") && !e.contains("s3cret"), "{e}");
    }
}
