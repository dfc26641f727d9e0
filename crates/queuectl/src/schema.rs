//! The SQL queue's schema as seen from outside: whether its table exists, and which
//! migrations it has. queue-sql creates or migrates a table whenever a queue is opened and
//! offers no way to ask first, so the tool reads the migration record queue-sql keeps
//! (`{table}_migrations`) on a connection of its own. That lets every command refuse a
//! table that does not exist (a typo in `--table` would otherwise create one) and lets
//! `migrate` say which versions it found and applied.

use std::str::FromStr;
use std::time::Duration;

use queue_sql::DEFAULT_CONNECT_TIMEOUT;
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection};

use crate::error::CliError;
use crate::target::{mysql_url, Location};

/// How long SQLite waits for a writer (a migrating queue, say) before reading.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// One connection to the queue's database, besides the queue's own.
pub enum SchemaConn {
    /// To Postgres.
    Postgres(PgConnection),
    /// To MySQL or MariaDB.
    MySql(MySqlConnection),
    /// To a SQLite file.
    Sqlite(SqliteConnection),
}

impl SchemaConn {
    /// Connects to the database of a SQL location. `None` for Redis, and for a SQLite file
    /// that does not exist yet.
    pub async fn open(location: &Location) -> Result<Option<SchemaConn>, CliError> {
        match location {
            Location::Postgres { url, .. } => connect_postgres(url).await.map(Some),
            Location::MySql { url, .. } => connect_mysql(url).await.map(Some),
            Location::Sqlite { url, .. } => connect_sqlite(url).await,
            Location::Redis { .. } => Ok(None),
        }
    }

    /// Whether queue-sql has made `table` here (its migration record exists).
    pub async fn has_queue(&mut self, table: &str) -> Result<bool, CliError> {
        let record = format!("{table}_migrations");
        let found = match self {
            SchemaConn::Postgres(conn) => {
                sqlx::query_scalar(include_str!("../sql/postgres/has_queue.sql"))
                    .bind(record)
                    .fetch_one(conn)
                    .await
            }
            SchemaConn::MySql(conn) => {
                sqlx::query_scalar(include_str!("../sql/mysql/has_queue.sql"))
                    .bind(record)
                    .fetch_one(conn)
                    .await
            }
            SchemaConn::Sqlite(conn) => {
                sqlx::query_scalar(include_str!("../sql/sqlite/has_queue.sql"))
                    .bind(record)
                    .fetch_one(conn)
                    .await
            }
        };
        found.map_err(|e| CliError::failed(format!("cannot read the schema: {e}")))
    }

    /// The migrations applied to `table`, in order; none when it has no record.
    pub async fn versions(&mut self, table: &str) -> Result<Vec<i64>, CliError> {
        if !self.has_queue(table).await? {
            return Ok(Vec::new());
        }
        let sql = match self {
            SchemaConn::MySql(_) => include_str!("../sql/mysql/versions.sql"),
            SchemaConn::Postgres(_) | SchemaConn::Sqlite(_) => include_str!("../sql/versions.sql"),
        }
        .replace("{table}", table);
        let versions = match self {
            SchemaConn::Postgres(conn) => sqlx::query_scalar(&sql).fetch_all(conn).await,
            SchemaConn::MySql(conn) => sqlx::query_scalar(&sql).fetch_all(conn).await,
            SchemaConn::Sqlite(conn) => sqlx::query_scalar(&sql).fetch_all(conn).await,
        };
        versions.map_err(|e| CliError::failed(format!("cannot read the migration record: {e}")))
    }

    /// Closes the connection; a failure to say goodbye changes nothing.
    pub async fn close(self) {
        let _ = match self {
            SchemaConn::Postgres(conn) => conn.close().await,
            SchemaConn::MySql(conn) => conn.close().await,
            SchemaConn::Sqlite(conn) => conn.close().await,
        };
    }
}

/// Connects to Postgres within the connect timeout, with an error that names the server
/// and says what to check.
async fn connect_postgres(url: &str) -> Result<SchemaConn, CliError> {
    let opts = PgConnectOptions::from_str(url)
        .map_err(|e| CliError::usage(format!("bad Postgres URL: {e}")))?;
    let server = match opts.get_socket() {
        Some(dir) => format!("{}:{}", dir.display(), opts.get_port()),
        None => format!("{}:{}", opts.get_host(), opts.get_port()),
    };
    let database = opts.get_database().unwrap_or("(default)").to_owned();
    let cannot = |why: String| {
        CliError::failed(format!(
            "cannot connect to Postgres at {server}, database {database}: {why}"
        ))
    };
    match tokio::time::timeout(DEFAULT_CONNECT_TIMEOUT, opts.connect()).await {
        Ok(Ok(conn)) => Ok(SchemaConn::Postgres(conn)),
        Err(_) => Err(cannot(format!(
            "no answer within {} (is the server reachable at {server}?)",
            crate::duration::format(DEFAULT_CONNECT_TIMEOUT)
        ))),
        Ok(Err(sqlx::Error::Io(e))) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            Err(cannot(format!(
                "connection refused (is the server running at {server}?)"
            )))
        }
        Ok(Err(sqlx::Error::Io(e)))
            if e.kind() == std::io::ErrorKind::InvalidData
                && e.to_string().to_lowercase().contains("certificate") =>
        {
            Err(cannot(untrusted(&e)))
        }
        Ok(Err(sqlx::Error::Tls(e))) => Err(cannot(untrusted(&e))),
        Ok(Err(sqlx::Error::Io(e))) => Err(cannot(format!(
            "unreachable: {e} (is the host right, and the server up?)"
        ))),
        Ok(Err(sqlx::Error::Database(e))) => {
            let hint = match e.code().as_deref() {
                Some("3D000") => " (create it, or fix the database in the URL)",
                Some("28P01" | "28000") => " (check the user and password in the URL)",
                Some("53300") => " (too many connections: try again when some are free)",
                _ => "",
            };
            Err(cannot(format!("{e}{hint}")))
        }
        Ok(Err(e)) => Err(cannot(e.to_string())),
    }
}

/// Connects to MySQL within the connect timeout, with an error that names the server and
/// says what to check.
async fn connect_mysql(url: &str) -> Result<SchemaConn, CliError> {
    let opts = MySqlConnectOptions::from_str(&mysql_url(url))
        .map_err(|e| CliError::usage(format!("bad MySQL URL: {e}")))?;
    let server = match opts.get_socket() {
        Some(socket) => socket.display().to_string(),
        None => format!("{}:{}", opts.get_host(), opts.get_port()),
    };
    let database = opts.get_database().unwrap_or("(default)").to_owned();
    let cannot = |why: String| {
        CliError::failed(format!(
            "cannot connect to MySQL at {server}, database {database}: {why}"
        ))
    };
    match tokio::time::timeout(DEFAULT_CONNECT_TIMEOUT, opts.connect()).await {
        Ok(Ok(conn)) => Ok(SchemaConn::MySql(conn)),
        Err(_) => Err(cannot(format!(
            "no answer within {} (is the server reachable at {server}?)",
            crate::duration::format(DEFAULT_CONNECT_TIMEOUT)
        ))),
        Ok(Err(sqlx::Error::Io(e))) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            Err(cannot(format!(
                "connection refused (is the server running at {server}?)"
            )))
        }
        Ok(Err(sqlx::Error::Tls(e))) => Err(cannot(untrusted_mysql(&e))),
        Ok(Err(sqlx::Error::Io(e))) => Err(cannot(format!(
            "unreachable: {e} (is the host right, and the server up?)"
        ))),
        Ok(Err(sqlx::Error::Database(e))) => {
            let number = e
                .try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
                .map(|e| e.number());
            // The server's error numbers: unknown database, access denied, too many
            // connections.
            let hint = match number {
                Some(1049) => " (create it, or fix the database in the URL)",
                Some(1045 | 1044) => " (check the user and password in the URL)",
                Some(1040) => " (too many connections: try again when some are free)",
                _ => "",
            };
            Err(cannot(format!("{e}{hint}")))
        }
        Ok(Err(e)) => Err(cannot(e.to_string())),
    }
}

/// The words for a MySQL TLS handshake that failed.
fn untrusted_mysql(e: &dyn std::fmt::Display) -> String {
    format!("TLS failed: is the server's certificate trusted (ssl-ca), and for this host? {e}")
}

/// The words for a TLS handshake that failed on the server's certificate.
fn untrusted(e: &dyn std::fmt::Display) -> String {
    format!(
        "TLS failed, a certificate problem: the server's certificate is not trusted (signed \
         by another CA than sslrootcert's, or for another host name?): {e}"
    )
}

/// Opens an existing SQLite file; `None` when there is no file there yet.
async fn connect_sqlite(url: &str) -> Result<Option<SchemaConn>, CliError> {
    let opts = SqliteConnectOptions::from_str(url)
        .map_err(|e| CliError::usage(format!("bad SQLite URL: {e}")))?
        .create_if_missing(false)
        .busy_timeout(SQLITE_BUSY_TIMEOUT);
    let path = opts.get_filename().to_owned();
    if !path.exists() {
        return Ok(None);
    }
    opts.connect()
        .await
        .map(SchemaConn::Sqlite)
        .map(Some)
        .map_err(|e| {
            CliError::failed(format!(
                "cannot open the SQLite database {}: {e} (is it a readable SQLite file?)",
                path.display()
            ))
        })
}
