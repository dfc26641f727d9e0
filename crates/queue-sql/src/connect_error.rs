//! A connection that could not be opened, named by server and reason, never with the
//! password. Pools retry refused connections until their acquire timeout and then say
//! only "pool timed out", so the network dialects open one connection themselves first.

use std::fmt;
use std::io::ErrorKind;
use std::time::Duration;

use queue_core::{QueueError, Result};
use sqlx::{ConnectOptions, Connection};

/// Opens one connection with `opts` and closes it again, within `timeout`; the error
/// names `database` at `target` and the reason, transient or not by `transient`.
pub(crate) async fn probe<O>(
    opts: &O,
    database: Database,
    target: String,
    timeout: Duration,
    transient: impl Fn(&sqlx::Error) -> bool,
) -> Result<()>
where
    O: ConnectOptions,
    O::Connection: Sized,
{
    match tokio::time::timeout(timeout, opts.connect()).await {
        Ok(Ok(conn)) => {
            // The probe has done its job; a failure to say goodbye changes nothing.
            let _ = conn.close().await;
            Ok(())
        }
        Ok(Err(e)) => {
            let is_transient = transient(&e);
            let err = ConnectError::driver(database, target, e);
            Err(if is_transient {
                QueueError::backend(err)
            } else {
                QueueError::rejected(err)
            })
        }
        Err(_) => Err(QueueError::backend(ConnectError::timeout(
            database, target, timeout,
        ))),
    }
}

/// A connection that could not be opened.
#[derive(Debug)]
pub(crate) struct ConnectError {
    database: Database,
    target: String,
    cause: Cause,
}

/// Which database a [`ConnectError`] is about.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Database {
    /// Its name in messages.
    pub name: &'static str,
    /// The URL setting that names a private CA.
    pub ca_setting: &'static str,
}

impl ConnectError {
    /// The driver refused or failed the connection.
    pub(crate) fn driver(database: Database, target: String, e: sqlx::Error) -> Self {
        ConnectError {
            database,
            target,
            cause: Cause::Driver(e),
        }
    }

    /// No answer within `timeout`.
    pub(crate) fn timeout(database: Database, target: String, timeout: Duration) -> Self {
        ConnectError {
            database,
            target,
            cause: Cause::Timeout(timeout),
        }
    }
}

/// Why: what the driver said, or nothing within the connect timeout.
#[derive(Debug)]
enum Cause {
    Driver(sqlx::Error),
    Timeout(Duration),
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The driver's error is the source, printed after this by whoever walks the chain.
        write!(
            f,
            "cannot connect to {} at {}",
            self.database.name, self.target
        )?;
        match &self.cause {
            Cause::Timeout(t) => write!(f, ": no answer within {t:?} (unreachable?)"),
            Cause::Driver(sqlx::Error::Io(e)) if e.kind() == ErrorKind::ConnectionRefused => {
                write!(f, " (is the server running there?)")
            }
            Cause::Driver(sqlx::Error::Io(e)) if is_certificate(e) => untrusted(f, self.database),
            Cause::Driver(sqlx::Error::Tls(_)) => untrusted(f, self.database),
            Cause::Driver(sqlx::Error::Io(_)) => write!(f, " (unreachable?)"),
            Cause::Driver(_) => Ok(()),
        }
    }
}

/// Whether an I/O error is a refused certificate (rustls reports it as invalid data).
fn is_certificate(e: &std::io::Error) -> bool {
    e.kind() == ErrorKind::InvalidData && e.to_string().to_lowercase().contains("certificate")
}

/// The words for a TLS handshake that failed on the server's certificate.
fn untrusted(f: &mut fmt::Formatter<'_>, database: Database) -> fmt::Result {
    write!(
        f,
        ": TLS failed, a certificate problem: the server's certificate is not trusted (signed \
         by another CA than {}'s, or for another host name?)",
        database.ca_setting
    )
}

impl std::error::Error for ConnectError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.cause {
            Cause::Driver(e) => Some(e),
            Cause::Timeout(_) => None,
        }
    }
}
