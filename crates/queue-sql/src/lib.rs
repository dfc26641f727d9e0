//! Postgres, SQLite and MySQL/MariaDB backends of the queue workspace.
//!
//! [`SqlQueue`] keeps jobs in one table (default `queue_jobs`) and follows every rule every
//! backend of the workspace follows: claims in one statement with claim tokens and leases,
//! token-guarded acks, backoff computed inside the database, automatic lease reclaim and
//! pruning on their own timer, unique keys, and enqueue inside the caller's transaction.
//! Migrations run on construction and are safe when several processes start at once.
//!
//! ```no_run
//! use std::sync::Arc;
//! use queue_core::{Job, Queue, Worker};
//! use queue_sql::SqlQueue;
//!
//! # async fn demo() -> queue_core::Result<()> {
//! let queue = Arc::new(SqlQueue::connect("postgres://postgres@127.0.0.1/test").await?);
//! queue.enqueue(Job::new("email", serde_json::json!({"to": "a@example.com"}))).await?;
//! let worker = Worker::new(queue.clone())
//!     .handle("email", |job: Job| async move { Ok(()) })
//!     .start()?;
//! # Ok(()) }
//! ```
//!
//! Enqueue in your own transaction, so a rollback leaves no job:
//!
//! ```no_run
//! # #[cfg(feature = "postgres")]
//! # async fn demo(queue: queue_sql::SqlQueue, pool: queue_sql::sqlx::PgPool) -> Result<(), Box<dyn std::error::Error>> {
//! use queue_core::Job;
//! let mut tx = pool.begin().await?;
//! // … your own writes on `tx` …
//! queue.enqueue_tx(&mut *tx, Job::new("email", serde_json::json!({}))).await?;
//! tx.commit().await?;
//! # Ok(()) }
//! ```
//!
//! **MySQL and MariaDB** come with the `mysql` feature (not on by default): MySQL 8.0+ or
//! MariaDB 10.6+, `SqlQueue::connect("mysql://…")` or `SqlQueue::from_mysql_pool`; the
//! same contract, with claims by `SELECT … FOR UPDATE SKIP LOCKED` and wake-ups across
//! processes within a second (MySQL has no NOTIFY).
//!
//! **TLS to Postgres** comes with the `tls-rustls` feature (default; rustls on ring) or
//! `tls-native` (native-tls, OpenSSL on Linux): `sslmode=require`, `verify-ca` or
//! `verify-full` in the URL, with `sslrootcert=FILE` for a private CA. Without either, such
//! a URL is refused with [`queue_core::QueueError::InvalidConfig`].
//!
//! `enqueue_tx` takes a connection of the sqlx version this crate is built on, which a
//! different sqlx release in your own `Cargo.toml` would not be: use the re-exported
//! [`queue_sql::sqlx`](crate::sqlx) (`use queue_sql::sqlx;`) for your pool and
//! transactions, or pin the same version.

// docs.rs (`--cfg docsrs`) badges the items behind cargo features.
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(not(any(feature = "postgres", feature = "sqlite", feature = "mysql")))]
compile_error!("queue-sql needs the `postgres`, `sqlite` or `mysql` feature");

mod classify;
#[cfg(any(feature = "postgres", feature = "mysql"))]
mod connect_error;
mod counts;
mod delegate;
mod ident;
mod limit_columns;
mod maintenance;
#[cfg(feature = "mysql")]
mod mysql;
mod options;
#[cfg(feature = "postgres")]
mod postgres;
mod refill;
#[cfg(any(feature = "postgres", feature = "mysql"))]
mod resume;
#[cfg(any(feature = "sqlite", feature = "mysql"))]
mod rounds;
#[cfg(any(feature = "postgres", feature = "mysql"))]
mod slots;
#[cfg(feature = "sqlite")]
mod sqlite;
mod tail;
mod text;
mod tx;
#[cfg(any(feature = "sqlite", feature = "mysql"))]
mod watching;

use std::sync::Arc;

pub use ident::{validate_table, MAX_TABLE_LEN};
pub use options::{SqlOptions, DEFAULT_CONNECT_TIMEOUT};
use queue_core::{Backend, QueueError, Result};
pub use text::MAX_ERROR_LEN;
pub use tx::TxConnection;

/// The sqlx crate this backend is built on, for the pools and transactions passed to
/// `enqueue_tx` (see the crate docs).
pub use sqlx;

/// A boxed `Send` future, used where sqlx's lifetimes need a helping hand.
pub(crate) type BoxFuture<'a, T> =
    std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// Which database a [`SqlQueue`] talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// PostgreSQL.
    Postgres,
    /// SQLite.
    Sqlite,
    /// MySQL or MariaDB.
    MySql,
}

/// A job queue in a SQL table. Implements `Queue`, `Browsable` and `Replayable`.
///
/// On Postgres it needs its pool's connections plus, with notifications on, one LISTEN
/// connection outside the pool, shared by every queue of that pool (see
/// [`SqlOptions`]'s "Connections"). Its `Debug` output names the server, never the
/// password.
#[derive(Clone)]
pub struct SqlQueue {
    inner: Inner,
}

#[derive(Clone)]
enum Inner {
    #[cfg(feature = "postgres")]
    Postgres(Arc<postgres::PgQueue>),
    #[cfg(feature = "sqlite")]
    Sqlite(Arc<sqlite::SqliteQueue>),
    #[cfg(feature = "mysql")]
    MySql(Arc<mysql::MySqlQueue>),
}

impl SqlQueue {
    /// Connects to `url` (`postgres://…` / `postgresql://…`, `sqlite:…`, or `mysql://…` /
    /// `mariadb://…`) with default options, creating or migrating the table. On Postgres
    /// and MySQL it builds a pool of 10 connections. Errors name the server (`host:port`)
    /// and never show the password.
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_with(url, SqlOptions::default()).await
    }

    /// Like [`SqlQueue::connect`], with options.
    pub async fn connect_with(url: &str, opts: SqlOptions) -> Result<Self> {
        opts.validate()?;
        let scheme = url.split(':').next().unwrap_or_default();
        match scheme {
            #[cfg(feature = "postgres")]
            "postgres" | "postgresql" => {
                // Lazy: the queue opens its first connection itself, to report a refused
                // or unreachable server at once and by name (see `PgQueue::open`).
                let pool = sqlx::postgres::PgPoolOptions::new()
                    .max_connections(10)
                    .connect_lazy_with(postgres::parse_url(url)?);
                Self::from_pg_pool(pool, opts).await
            }
            #[cfg(feature = "sqlite")]
            "sqlite" => {
                let pool = sqlite::open_pool(url).await?;
                Self::from_sqlite_pool(pool, opts).await
            }
            #[cfg(feature = "mysql")]
            "mysql" | "mariadb" => {
                // Lazy, like Postgres: the queue's own first connection reports a refused
                // or unreachable server at once and by name.
                let pool = sqlx::mysql::MySqlPoolOptions::new()
                    .max_connections(10)
                    .connect_lazy_with(mysql::parse_url(url)?);
                Self::from_mysql_pool(pool, opts).await
            }
            other => Err(QueueError::InvalidConfig(format!(
                "unsupported database URL scheme {other:?} (enabled: {})",
                enabled_schemes()
            ))),
        }
    }

    /// A queue over an existing Postgres pool. Queues built on clones of one pool share
    /// one LISTEN connection, opened outside the pool. The queue first opens a connection
    /// of its own (within [`SqlOptions::connect_timeout`]), so an unreachable server is
    /// reported at once, by address.
    #[cfg(feature = "postgres")]
    #[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
    pub async fn from_pg_pool(pool: sqlx::PgPool, opts: SqlOptions) -> Result<Self> {
        opts.validate()?;
        Ok(SqlQueue {
            inner: Inner::Postgres(postgres::PgQueue::open(pool, opts).await?),
        })
    }

    /// A queue over an existing SQLite pool. The pool should use WAL and a busy timeout
    /// (as [`SqlQueue::connect`] sets up); claims and writes are serialised safely either way.
    /// For a database file the queue writes on one connection of its own, opened outside
    /// the pool with the pool's connect options (its `after_connect` hook does not run
    /// there); reads and [`SqlQueue::enqueue_tx`] use the pool.
    #[cfg(feature = "sqlite")]
    #[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
    pub async fn from_sqlite_pool(pool: sqlx::SqlitePool, opts: SqlOptions) -> Result<Self> {
        opts.validate()?;
        Ok(SqlQueue {
            inner: Inner::Sqlite(sqlite::SqliteQueue::open(pool, opts).await?),
        })
    }

    /// A queue over an existing MySQL or MariaDB pool (MySQL 8.0+ or MariaDB 10.6+, which
    /// have `SKIP LOCKED` and `JSON_TABLE`). The queue first opens a connection of its
    /// own (within [`SqlOptions::connect_timeout`]), so an unreachable server is reported
    /// at once, by address. MySQL has no NOTIFY: workers in other processes find new jobs
    /// at their next poll, and learn of cancel requests from their heartbeats.
    #[cfg(feature = "mysql")]
    #[cfg_attr(docsrs, doc(cfg(feature = "mysql")))]
    pub async fn from_mysql_pool(pool: sqlx::MySqlPool, opts: SqlOptions) -> Result<Self> {
        opts.validate()?;
        Ok(SqlQueue {
            inner: Inner::MySql(mysql::MySqlQueue::open(pool, opts).await?),
        })
    }

    /// The database this queue talks to.
    pub fn dialect(&self) -> Dialect {
        match &self.inner {
            #[cfg(feature = "postgres")]
            Inner::Postgres(_) => Dialect::Postgres,
            #[cfg(feature = "sqlite")]
            Inner::Sqlite(_) => Dialect::Sqlite,
            #[cfg(feature = "mysql")]
            Inner::MySql(_) => Dialect::MySql,
        }
    }

    /// Enqueues `job` on the caller's connection or transaction (`&mut *tx`), so the job
    /// exists exactly when the transaction commits.
    pub async fn enqueue_tx<C: TxConnection + ?Sized>(
        &self,
        conn: &mut C,
        job: queue_core::NewJob,
    ) -> Result<queue_core::JobId> {
        let count = queue_core::metrics::Enqueued::of(std::slice::from_ref(&job));
        let id = conn.enqueue_job(self, job).await?;
        // Counted when the statement succeeds, whether or not the transaction commits.
        count.record(queue_core::Queue::name(self));
        Ok(id)
    }

    /// Drops the queue's table, its paused kinds and its migration record (and, on
    /// Postgres, its functions, and the `queue_notify_insert()` function every queue table
    /// of the schema shares once no table's trigger calls it any more). Meant for tests
    /// and uninstalls. On Postgres it waits for migrations running meanwhile (they share
    /// one advisory lock), so a queue created at the same time never loses the function.
    pub async fn drop_schema(&self) -> Result<()> {
        match &self.inner {
            #[cfg(feature = "postgres")]
            Inner::Postgres(q) => q.drop_schema().await,
            #[cfg(feature = "sqlite")]
            Inner::Sqlite(q) => q.drop_schema().await,
            #[cfg(feature = "mysql")]
            Inner::MySql(q) => q.drop_schema().await,
        }
    }

    pub(crate) fn backend(&self) -> &dyn Backend {
        match &self.inner {
            #[cfg(feature = "postgres")]
            Inner::Postgres(q) => q.as_ref(),
            #[cfg(feature = "sqlite")]
            Inner::Sqlite(q) => q.as_ref(),
            #[cfg(feature = "mysql")]
            Inner::MySql(q) => q.as_ref(),
        }
    }

    #[cfg(feature = "postgres")]
    pub(crate) fn postgres(&self) -> Option<&postgres::PgQueue> {
        match &self.inner {
            Inner::Postgres(q) => Some(q),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }

    #[cfg(feature = "mysql")]
    pub(crate) fn mysql(&self) -> Option<&mysql::MySqlQueue> {
        match &self.inner {
            Inner::MySql(q) => Some(q),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }

    #[cfg(feature = "sqlite")]
    pub(crate) fn sqlite(&self) -> Option<&sqlite::SqliteQueue> {
        match &self.inner {
            Inner::Sqlite(q) => Some(q),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }
}

/// Shows the dialect, the server (host, port and database; never the password) or file,
/// and the table.
impl std::fmt::Debug for SqlQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("SqlQueue");
        match &self.inner {
            #[cfg(feature = "postgres")]
            Inner::Postgres(q) => d
                .field("dialect", &Dialect::Postgres)
                .field("server", &q.server())
                .field("table", &q.options().table_name()),
            #[cfg(feature = "sqlite")]
            Inner::Sqlite(q) => d
                .field("dialect", &Dialect::Sqlite)
                .field("file", &q.file())
                .field("table", &q.options().table_name()),
            #[cfg(feature = "mysql")]
            Inner::MySql(q) => d
                .field("dialect", &Dialect::MySql)
                .field("server", &q.server())
                .field("table", &q.options().table_name()),
        };
        d.finish_non_exhaustive()
    }
}

fn enabled_schemes() -> String {
    let mut on = Vec::new();
    if cfg!(feature = "postgres") {
        on.push("postgres");
    }
    if cfg!(feature = "sqlite") {
        on.push("sqlite");
    }
    if cfg!(feature = "mysql") {
        on.push("mysql");
    }
    on.join(", ")
}
