//! Opening the connections of a queue built from a URL or cluster nodes: bounded by the
//! connect timeout, and failing with an error that names the server and says why, never
//! with a password in it.

use std::time::Duration;

use fred::error::ErrorKind;
use fred::prelude::{Builder, ClientLike, Config, Error, Pool, ReconnectPolicy};
use fred::types::config::Options;
use queue_core::{QueueError, Result};

/// How to open the connections.
pub(crate) struct Connect<'a> {
    /// Connections in the pool.
    pub(crate) size: usize,
    /// Longest wait for one command once connected.
    pub(crate) command_timeout: Duration,
    /// Longest wait for a connection (TCP, TLS, `AUTH` / `SELECT`) and the first answer.
    pub(crate) connect_timeout: Duration,
    /// Passwords the configuration holds, scrubbed from every error text.
    pub(crate) secrets: &'a [String],
}

/// A connection that could not be made, described for people: which server and why.
#[derive(Debug)]
pub(crate) struct ConnectError(String);

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConnectError {}

/// Opens a pool that reconnects forever with backoff (calls made meanwhile wait for the
/// reconnect, up to the command timeout), and never re-sends a command that may have run
/// (a script is not idempotent). Construction itself does not wait for a reconnect: a
/// server that refuses or does not answer within the connect timeout fails it at once.
pub(crate) async fn connect(config: Config, how: &Connect<'_>) -> Result<Pool> {
    let servers = config
        .server
        .hosts()
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let connect_timeout = how.connect_timeout;
    let pool = Builder::from_config(config)
        .with_performance_config(|p| {
            p.default_command_timeout = how.command_timeout;
        })
        .with_connection_config(|c| {
            c.connection_timeout = connect_timeout;
            c.internal_command_timeout = connect_timeout;
            c.max_command_attempts = 1;
        })
        .set_policy(ReconnectPolicy::new_exponential(0, 50, 2_000, 2))
        .build_pool(how.size)
        .map_err(|e| {
            QueueError::InvalidConfig(queue_core::scrub_secrets(
                &format!("Redis configuration: {e}"),
                how.secrets,
            ))
        })?;
    let failed = |e: Error| {
        QueueError::backend(ConnectError(queue_core::scrub_secrets(
            &describe(&servers, &e, connect_timeout),
            how.secrets,
        )))
    };
    pool.init().await.map_err(failed)?;
    // A server that accepts connections but never answers is found here, not by the
    // first real command after the (longer) command timeout.
    let first_answer = Options {
        timeout: Some(connect_timeout),
        ..Options::default()
    };
    let pinged: std::result::Result<(), Error> =
        pool.next().with_options(&first_answer).ping(None).await;
    if let Err(e) = pinged {
        let _ = pool.quit().await;
        return Err(failed(e));
    }
    Ok(pool)
}

/// Why connecting to `servers` failed, in words.
fn describe(servers: &str, e: &Error, timeout: Duration) -> String {
    let details = e.details().to_ascii_lowercase();
    if is_tls(e) || details.contains("certificate") {
        format!(
            "TLS to Redis at {servers} failed, a certificate problem: the server's certificate \
             is not trusted (signed by another CA, or for another host name? give its CA with \
             tls_ca_pem): {e}"
        )
    } else if details.contains("refused") {
        format!("Redis at {servers} refused the connection (is it running, on that port?): {e}")
    } else if *e.kind() == ErrorKind::Timeout || details.contains("timed out") {
        format!("Redis at {servers} is unreachable: no answer within {timeout:?} ({e})")
    } else if *e.kind() == ErrorKind::IO {
        format!("Redis at {servers} is unreachable: {e}")
    } else {
        format!("could not connect to Redis at {servers}: {e}")
    }
}

/// Whether fred classed `e` as a TLS error (a kind it has only with a TLS feature).
#[cfg(any(feature = "tls-rustls", feature = "tls-native"))]
fn is_tls(e: &Error) -> bool {
    *e.kind() == ErrorKind::Tls
}

#[cfg(not(any(feature = "tls-rustls", feature = "tls-native")))]
fn is_tls(_: &Error) -> bool {
    false
}
