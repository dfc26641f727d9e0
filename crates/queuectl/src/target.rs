//! Which queue the command line names: the backend from the URL's scheme, and the table or
//! queue name that goes with it. Every mistake here is a usage error (exit code 2).

use queue_core::redact_url;

use crate::cli::Target;
use crate::error::CliError;

/// The table a SQL queue uses unless `--table` says otherwise (queue-sql's default).
pub const DEFAULT_TABLE: &str = "queue_jobs";

/// Whether this build speaks TLS (to Postgres, MySQL and Redis alike).
const TLS: bool = cfg!(any(feature = "tls-rustls", feature = "tls-native"));

/// How to get a build that does.
const REBUILD: &str = "rebuild it with its default features, or with `cargo install queuectl \
                       --features tls-rustls` (or tls-native)";

/// The `sslmode` of a Postgres URL when it requires TLS; a URL that does not parse is
/// left to the connection, which says what is wrong with it.
fn tls_sslmode(url: &str) -> Option<&'static str> {
    use sqlx::postgres::{PgConnectOptions, PgSslMode};
    match url.parse::<PgConnectOptions>().ok()?.get_ssl_mode() {
        PgSslMode::Require => Some("require"),
        PgSslMode::VerifyCa => Some("verify-ca"),
        PgSslMode::VerifyFull => Some("verify-full"),
        PgSslMode::Disable | PgSslMode::Allow | PgSslMode::Prefer => None,
    }
}

/// The `ssl-mode` of a MySQL URL when it requires TLS; a URL that does not parse is left
/// to the connection, as for Postgres.
fn tls_ssl_mode(url: &str) -> Option<&'static str> {
    use sqlx::mysql::{MySqlConnectOptions, MySqlSslMode};
    match mysql_url(url)
        .parse::<MySqlConnectOptions>()
        .ok()?
        .get_ssl_mode()
    {
        MySqlSslMode::Required => Some("required"),
        MySqlSslMode::VerifyCa => Some("verify_ca"),
        MySqlSslMode::VerifyIdentity => Some("verify_identity"),
        MySqlSslMode::Disabled | MySqlSslMode::Preferred => None,
    }
}

/// A `mysql://` or `mariadb://` URL in the `mysql://` form the driver parses (MariaDB
/// speaks the same protocol).
pub fn mysql_url(url: &str) -> String {
    match url.get(..8) {
        Some(scheme) if scheme.eq_ignore_ascii_case("mariadb:") => format!("mysql:{}", &url[8..]),
        _ => url.to_owned(),
    }
}

/// A queue to open.
#[derive(Clone)]
pub enum Location {
    /// A table on a Postgres server.
    Postgres {
        /// `postgres://…` or `postgresql://…`.
        url: String,
        /// The jobs table.
        table: String,
    },
    /// A table on a MySQL or MariaDB server.
    MySql {
        /// `mysql://…` or `mariadb://…`.
        url: String,
        /// The jobs table.
        table: String,
    },
    /// A table in a SQLite file.
    Sqlite {
        /// `sqlite:…`.
        url: String,
        /// The jobs table.
        table: String,
    },
    /// A named queue on a Redis server.
    Redis {
        /// `redis://…`, `redis-cluster://…`, `redis-sentinel://…` (their `rediss` forms
        /// with a TLS feature), or the same with `valkey`.
        url: String,
        /// The queue's name.
        name: String,
    },
}

impl Location {
    /// Reads the URL's scheme and checks that the options fit it.
    pub fn from_args(target: &Target) -> Result<Location, CliError> {
        let Some(url) = target.url.clone().filter(|u| !u.trim().is_empty()) else {
            return Err(CliError::usage(
                "no queue given: pass --url URL or set QUEUE_URL (postgres://…, mysql://…, \
                 sqlite:FILE or redis://…)",
            ));
        };
        let scheme = url
            .split_once(':')
            .map(|(s, _)| s.to_ascii_lowercase())
            .unwrap_or_default();
        match scheme.as_str() {
            "postgres" | "postgresql" => {
                if let Some(mode) = tls_sslmode(&url).filter(|_| !TLS) {
                    return Err(CliError::usage(format!(
                        "sslmode={mode} needs TLS, and this queuectl was built without it: \
                         {REBUILD}"
                    )));
                }
                Ok(Location::Postgres {
                    table: sql_table(target, "Postgres")?,
                    url,
                })
            }
            "mysql" | "mariadb" => {
                if let Some(mode) = tls_ssl_mode(&url).filter(|_| !TLS) {
                    return Err(CliError::usage(format!(
                        "ssl-mode={mode} needs TLS, and this queuectl was built without it: \
                         {REBUILD}"
                    )));
                }
                Ok(Location::MySql {
                    table: sql_table(target, "MySQL")?,
                    url,
                })
            }
            "sqlite" => {
                if url.contains(":memory:") || url.contains("mode=memory") {
                    return Err(CliError::usage(
                        "an in-memory SQLite database lives only as long as the process that \
                         opened it: give a file, such as sqlite:jobs.db",
                    ));
                }
                Ok(Location::Sqlite {
                    table: sql_table(target, "SQLite")?,
                    url,
                })
            }
            "redis" | "rediss" | "redis-cluster" | "rediss-cluster" | "redis-sentinel"
            | "rediss-sentinel" | "valkey" | "valkeys" | "valkey-cluster" | "valkeys-cluster" => {
                let tls = scheme.starts_with("rediss") || scheme.starts_with("valkeys");
                if tls && !TLS {
                    return Err(CliError::usage(format!(
                        "{scheme}:// needs TLS, and this queuectl was built without it: \
                         {REBUILD} (or use redis:// on a trusted network)"
                    )));
                }
                if target.table.is_some() {
                    return Err(CliError::usage(
                        "--table is for SQL queues; a Redis queue is chosen with --queue NAME",
                    ));
                }
                let Some(name) = target.queue.clone() else {
                    return Err(CliError::usage(
                        "a Redis URL needs --queue NAME: the name the workers gave \
                         RedisQueue::builder (its keys start with {NAME}:)",
                    ));
                };
                Ok(Location::Redis { url, name })
            }
            _ => Err(CliError::usage(format!(
                "unsupported URL {}: expected postgres://…, mysql://…, sqlite:FILE or \
                 redis://…",
                redact_url(&url)
            ))),
        }
    }

    /// The backend's name, as the JSON output gives it.
    pub fn backend(&self) -> &'static str {
        match self {
            Location::Postgres { .. } => "postgres",
            Location::MySql { .. } => "mysql",
            Location::Sqlite { .. } => "sqlite",
            Location::Redis { .. } => "redis",
        }
    }

    /// Where the queue is, for people: the URL without its password, and the table or
    /// queue name.
    pub fn label(&self) -> String {
        match self {
            Location::Postgres { url, table }
            | Location::MySql { url, table }
            | Location::Sqlite { url, table } => format!("{} (table {table})", redact_url(url)),
            Location::Redis { url, name } => format!("{} (queue {name})", redact_url(url)),
        }
    }
}

/// The table of a SQL URL, refusing `--queue`, which would be ignored.
fn sql_table(target: &Target, dialect: &str) -> Result<String, CliError> {
    if target.queue.is_some() {
        return Err(CliError::usage(format!(
            "--queue is for Redis queues; a {dialect} queue is chosen with --table TABLE"
        )));
    }
    let table = target
        .table
        .clone()
        .unwrap_or_else(|| DEFAULT_TABLE.to_owned());
    queue_sql::validate_table(&table)?;
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(url: &str, table: Option<&str>, queue: Option<&str>) -> Target {
        Target {
            url: Some(url.to_owned()),
            table: table.map(str::to_owned),
            queue: queue.map(str::to_owned),
        }
    }

    fn usage_error(t: Target) -> String {
        match Location::from_args(&t) {
            Ok(l) => panic!("accepted {}", l.label()),
            Err(e) => {
                assert_eq!(e.exit, crate::error::Exit::Usage, "{e}");
                e.message
            }
        }
    }

    #[test]
    fn schemes_pick_the_backend() {
        let pg = Location::from_args(&target("postgres://u:pw@h/db", None, None));
        assert!(matches!(pg, Ok(Location::Postgres { ref table, .. }) if table == DEFAULT_TABLE));
        let sqlite = Location::from_args(&target("sqlite:jobs.db", Some("billing"), None));
        assert!(matches!(sqlite, Ok(Location::Sqlite { ref table, .. }) if table == "billing"));
        let mysql = Location::from_args(&target("mysql://u:pw@h/db", Some("jobs"), None));
        assert!(matches!(mysql, Ok(Location::MySql { ref table, .. }) if table == "jobs"));
        let mariadb = Location::from_args(&target("MariaDB://h/db", None, None));
        assert!(matches!(mariadb, Ok(Location::MySql { .. })));
        assert_eq!(mysql_url("mariadb://h/db"), "mysql://h/db");
        assert_eq!(mysql_url("mysql://h/db"), "mysql://h/db");
        let label = Location::from_args(&target("mariadb://u:pw@h/db", None, None))
            .map(|l| l.label())
            .unwrap_or_default();
        assert_eq!(label, "mariadb://u:***@h/db (table queue_jobs)");
        let redis = Location::from_args(&target("redis://h:6379", None, Some("emails")));
        assert!(matches!(redis, Ok(Location::Redis { ref name, .. }) if name == "emails"));
        let label = Location::from_args(&target("postgres://u:pw@h/db", None, None))
            .map(|l| l.label())
            .unwrap_or_default();
        assert_eq!(label, "postgres://u:***@h/db (table queue_jobs)");
    }

    #[test]
    fn mistakes_are_usage_errors_without_the_password() {
        assert!(usage_error(Target {
            url: None,
            table: None,
            queue: None
        })
        .contains("QUEUE_URL"));
        assert!(usage_error(target("redis://:pw@h", None, None)).contains("--queue NAME"));
        assert!(usage_error(target("redis://h", Some("t"), Some("q"))).contains("--table is for"));
        assert!(usage_error(target("sqlite:x.db", None, Some("q"))).contains("--queue is for"));
        assert!(usage_error(target("sqlite::memory:", None, None)).contains("in-memory"));
        assert!(usage_error(target("postgres://h/db", Some("Jobs"), None)).contains("jobs"));
        let bad = usage_error(target("mssql://u:s3cret@h/db", None, None));
        assert!(
            bad.contains("mssql://u:***@h/db") && !bad.contains("s3cret"),
            "{bad}"
        );
        assert!(usage_error(target("mysql://h/db", None, Some("q"))).contains("--queue is for"));
        let rediss = target("rediss://h", None, Some("q"));
        let verified = target("postgres://h/db?sslmode=verify-full", None, None);
        let my_verified = target("mysql://h/db?ssl-mode=VERIFY_IDENTITY", None, None);
        if TLS {
            assert!(Location::from_args(&rediss).is_ok());
            assert!(Location::from_args(&verified).is_ok());
            assert!(Location::from_args(&my_verified).is_ok());
        } else {
            assert!(usage_error(rediss).contains("--features tls-rustls"));
            assert!(usage_error(verified).contains("sslmode=verify-full needs TLS"));
            assert!(usage_error(my_verified).contains("ssl-mode=verify_identity needs TLS"));
        }
        let prefer = target("postgres://h/db?sslmode=prefer", None, None);
        assert!(Location::from_args(&prefer).is_ok());
    }
}
