//! The queue's writes take turns on one connection of its own, opened outside the pool
//! with the pool's connect options. SQLite admits one writer at a time anyway, and a
//! pooled connection costs two more round trips to the driver's connection thread per
//! statement (the pool pings it when it is taken and again when it is given back).
//!
//! An in-memory (or temporary) database exists only inside the pool's connection, so
//! there the turn borrows that connection instead.

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, Ordering};

use queue_core::{QueueError, Result};
use sqlx::pool::PoolConnection;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection, Sqlite, SqliteConnection, SqlitePool};
use tokio::sync::{MappedMutexGuard, Mutex, MutexGuard};

use super::busy::retry_busy;
use super::row::db_err;
use super::sql::Sql;

/// Rows the driver's thread may hand over before it waits for the reader: a whole claim
/// batch, so a claim's rows cross threads without a pause per 50 rows (the default).
const ROW_BUFFER: usize = 1_024;

/// Where this process's writers take turns.
pub(crate) struct Writer {
    /// For in-memory databases, and for reopening.
    pool: SqlitePool,
    /// The options of the writer's own connection; `None` for a database without a file.
    own: Option<SqliteConnectOptions>,
    /// The connection (once opened), held by whoever has the turn.
    conn: Mutex<Option<SqliteConnection>>,
    /// Set when the connection stopped working: the next turn opens a new one.
    broken: AtomicBool,
}

/// A turn to write: a connection no other writer of this process uses until it is dropped.
pub(crate) enum Turn<'a> {
    /// The writer's own connection.
    Own(MappedMutexGuard<'a, SqliteConnection>),
    /// A connection of the pool (in-memory databases).
    Pooled {
        /// Held for the turn.
        _lock: MutexGuard<'a, Option<SqliteConnection>>,
        /// The connection.
        conn: PoolConnection<Sqlite>,
    },
}

impl Writer {
    /// A writer for `pool`'s database; opens its connection on the first turn.
    pub(crate) async fn open(pool: SqlitePool, sql: &Sql) -> Result<Writer> {
        let file: Option<String> = retry_busy!(
            sqlx::query_scalar(&sql.main_file)
                .fetch_optional(&pool)
                .await
        )
        .map_err(db_err)?;
        let on_disk = file.is_some_and(|f| !f.is_empty());
        let own = on_disk.then(|| {
            (*pool.connect_options())
                .clone()
                .row_buffer_size(ROW_BUFFER)
        });
        Ok(Writer {
            pool,
            own,
            conn: Mutex::new(None),
            broken: AtomicBool::new(false),
        })
    }

    /// True when the writer has a connection of its own, which sees the commits of every
    /// other connection (see [`super::watch`]).
    pub(crate) fn is_own(&self) -> bool {
        self.own.is_some()
    }

    /// Waits for this process's turn to write. Turns are granted in order; SQLite's own
    /// busy handler would make writers sleep and poll (up to 100 ms a try), which is what
    /// other processes get.
    pub(crate) async fn turn(&self) -> Result<Turn<'_>> {
        let mut slot = self.conn.lock().await;
        let Some(opts) = &self.own else {
            let pooled = retry_busy!(self.pool.acquire().await).map_err(db_err)?;
            return Ok(Turn::Pooled {
                _lock: slot,
                conn: pooled,
            });
        };
        if self.broken.swap(false, Ordering::AcqRel) {
            tracing::warn!("the queue's SQLite write connection failed; opening a new one");
            *slot = None;
        }
        if slot.is_none() {
            let conn = retry_busy!(SqliteConnection::connect_with(opts).await).map_err(db_err)?;
            *slot = Some(conn);
        }
        MutexGuard::try_map(slot, Option::as_mut)
            .map(Turn::Own)
            .map_err(|_| QueueError::backend(std::io::Error::other("no write connection")))
    }

    /// Passes `r` on; when it failed because the connection can no longer be used (its
    /// thread is gone), the next turn opens a new one.
    pub(crate) fn checked<T>(&self, r: Result<T>) -> Result<T> {
        if let Err(QueueError::Backend(source)) = &r {
            let dead = source
                .downcast_ref::<sqlx::Error>()
                .is_some_and(|e| matches!(e, sqlx::Error::WorkerCrashed));
            if dead && self.is_own() {
                self.broken.store(true, Ordering::Release);
            }
        }
        r
    }
}

impl Deref for Turn<'_> {
    type Target = SqliteConnection;

    fn deref(&self) -> &SqliteConnection {
        match self {
            Turn::Own(c) => c,
            Turn::Pooled { conn, .. } => conn,
        }
    }
}

impl DerefMut for Turn<'_> {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        match self {
            Turn::Own(c) => c,
            Turn::Pooled { conn, .. } => conn,
        }
    }
}
