//! Opening MySQL connections, with errors that say which server and why, never with the
//! password (see [`crate::connect_error`]).

use std::str::FromStr;
use std::time::Duration;

use queue_core::{redact_url, QueueError, Result};
use sqlx::mysql::{MySqlConnectOptions, MySqlSslMode};

use super::row::is_transient_number;
use crate::classify::is_transient;
use crate::connect_error::Database;

/// How connection errors name the server, and the setting that trusts a private CA.
const MYSQL: Database = Database {
    name: "MySQL",
    ca_setting: "ssl-ca",
};

/// Parses a `mysql://` or `mariadb://` URL; a bad one is a configuration error that
/// shows the URL with its password hidden. So is one that demands TLS from a build
/// without it.
pub(crate) fn parse_url(url: &str) -> Result<MySqlConnectOptions> {
    // sqlx knows only the `mysql` scheme; MariaDB's speaks the same protocol.
    let url = match url.strip_prefix("mariadb:") {
        Some(rest) => format!("mysql:{rest}"),
        None => url.to_owned(),
    };
    let opts = MySqlConnectOptions::from_str(&url).map_err(|e| {
        QueueError::InvalidConfig(format!("bad MySQL URL {}: {e}", redact_url(&url)))
    })?;
    check_tls(&opts)?;
    Ok(opts)
}

/// Refuses an `ssl-mode` that requires TLS when no TLS feature is compiled in, with the
/// fix, rather than the driver's message at the first connection.
pub(crate) fn check_tls(opts: &MySqlConnectOptions) -> Result<()> {
    let mode = match opts.get_ssl_mode() {
        MySqlSslMode::Required => "required",
        MySqlSslMode::VerifyCa => "verify_ca",
        MySqlSslMode::VerifyIdentity => "verify_identity",
        MySqlSslMode::Disabled | MySqlSslMode::Preferred => return Ok(()),
    };
    if cfg!(any(feature = "tls-rustls", feature = "tls-native")) {
        return Ok(());
    }
    Err(QueueError::InvalidConfig(format!(
        "ssl-mode={mode} needs the tls-rustls or tls-native feature of queue-sql"
    )))
}

/// Where `opts` connect to, for messages: `host:port` (or the socket) and the database.
pub(crate) fn target(opts: &MySqlConnectOptions) -> String {
    let server = match opts.get_socket() {
        Some(path) => path.display().to_string(),
        None => format!("{}:{}", opts.get_host(), opts.get_port()),
    };
    match opts.get_database() {
        Some(db) => format!("{server}/{db}"),
        None => server,
    }
}

/// Opens one connection and closes it again, within `timeout`; the error names the server
/// and the reason.
pub(crate) async fn probe(opts: &MySqlConnectOptions, timeout: Duration) -> Result<()> {
    let transient = |e: &sqlx::Error| match super::row::number(e) {
        Some(n) => is_transient_number(n),
        None => is_transient(e, |_| true),
    };
    crate::connect_error::probe(opts, MYSQL, target(opts), timeout, transient).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_and_bad_urls_never_show_the_password() {
        let opts = parse_url("mariadb://app:s3cret@db.example:3307/jobs")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(target(&opts), "db.example:3307/jobs");
        let e = parse_url("mysql://app:s3cret@db.example:99999999/jobs")
            .err()
            .map(|e| format!("{e} {e:?}"))
            .unwrap_or_default();
        assert!(e.contains("db.example") && !e.contains("s3cret"), "{e}");
    }
}
