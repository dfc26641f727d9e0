//! Settings shared by both dialects.

use std::time::Duration;

use queue_core::{QueueError, Result, RetryPolicy, DEFAULT_LEASE_TIMEOUT, MAX_OUTPUT_BYTES};

/// Default of [`SqlOptions::connect_timeout`].
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How a [`crate::SqlQueue`] is set up.
///
/// ```
/// use std::time::Duration;
/// use queue_sql::SqlOptions;
/// let opts = SqlOptions::default()
///     .table("billing_jobs")
///     .lease_timeout(Duration::from_secs(60))
///     .keep_completed_for(Duration::from_secs(3600));
/// assert_eq!(opts.table_name(), "billing_jobs");
/// ```
///
/// # Connections (Postgres)
///
/// A queue uses the connections of its pool for every call, holding one only for the
/// length of a statement or a batch, and — with [notifications](SqlOptions::notifications)
/// on — one more connection **outside** the pool for LISTEN. That listener is shared by
/// every queue built on the same pool ([`crate::SqlQueue::from_pg_pool`] with clones of
/// one pool), so a process needs the pool's `max_connections` plus one per pool.
/// [`crate::SqlQueue::connect`] builds a pool of 10 per queue. Size the pool for the
/// workers' concurrent claims, acks and heartbeats; a pool of 1 works, slowly.
///
/// The options hold no URL or password, so their `Debug` output is safe to log.
#[derive(Clone, Debug)]
pub struct SqlOptions {
    pub(crate) table: String,
    pub(crate) lease_timeout: Duration,
    pub(crate) retry: RetryPolicy,
    pub(crate) keep_completed_for: Duration,
    pub(crate) keep_failed_for: Option<Duration>,
    pub(crate) notifications: bool,
    pub(crate) maintenance_every: Option<Duration>,
    pub(crate) connect_timeout: Duration,
    pub(crate) max_output: usize,
}

impl Default for SqlOptions {
    fn default() -> Self {
        SqlOptions {
            table: "queue_jobs".into(),
            lease_timeout: DEFAULT_LEASE_TIMEOUT,
            retry: RetryPolicy::default(),
            keep_completed_for: Duration::from_secs(24 * 3600),
            keep_failed_for: None,
            notifications: true,
            maintenance_every: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            max_output: MAX_OUTPUT_BYTES,
        }
    }
}

impl SqlOptions {
    /// The table that holds the jobs (default `queue_jobs`). Checked when the queue is
    /// built: lower-case ASCII letters, digits and `_`, not starting with a digit, at most
    /// 48 bytes, and not an SQL keyword such as `user` or `order` (see
    /// [`crate::validate_table`]); anything else is [`QueueError::InvalidConfig`].
    pub fn table(mut self, name: impl Into<String>) -> Self {
        self.table = name.into();
        self
    }

    /// The configured table name.
    pub fn table_name(&self) -> &str {
        &self.table
    }

    /// How long a claim holds a job before it may be reclaimed (default 30 s).
    pub fn lease_timeout(mut self, d: Duration) -> Self {
        self.lease_timeout = d;
        self
    }

    /// Backoff between failed attempts.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// How long completed and cancelled jobs are kept (default 24 h; zero removes them at
    /// the next pruning), outputs with them. With zero, Postgres deletes a completed job
    /// in its ack, the cheapest way through the queue (a job holding its unique key for a
    /// window stays until the window lapses), and so keeps no output at all.
    pub fn keep_completed_for(mut self, d: Duration) -> Self {
        self.keep_completed_for = d;
        self
    }

    /// How long failed jobs are kept (default: forever, so they can be replayed).
    pub fn keep_failed_for(mut self, d: Duration) -> Self {
        self.keep_failed_for = Some(d);
        self
    }

    /// Wake idle workers when another process adds work (default on). On Postgres with
    /// LISTEN/NOTIFY, on one dedicated connection per pool, outside it (see
    /// [connections](SqlOptions#connections-postgres)), which reconnects on its own; turn
    /// it off behind PgBouncer in transaction mode. On SQLite by reading
    /// `PRAGMA data_version` every 25 ms on the queue's write connection (a file header
    /// read, no table scan). Off, workers of other processes find new jobs by polling;
    /// jobs enqueued in the same process wake its workers either way.
    pub fn notifications(mut self, on: bool) -> Self {
        self.notifications = on;
        self
    }

    /// How often expired leases are reclaimed. Default: a quarter of the lease timeout,
    /// between 50 ms and 1 s.
    pub fn maintenance_every(mut self, d: Duration) -> Self {
        self.maintenance_every = Some(d);
        self
    }

    /// How long opening a Postgres connection may take (default 10 s): the connection the
    /// queue opens when it is built, to fail at once with the server's address and the
    /// reason (refused, unreachable, wrong password) instead of a pool timeout, and each
    /// connection of the LISTEN task. Waits for a free connection of the pool are the
    /// pool's own `acquire_timeout`.
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }

    /// The longest output `complete_batch` stores with a job, in bytes of JSON (default
    /// [`MAX_OUTPUT_BYTES`], 64 KiB); a longer one is refused with
    /// [`QueueError::InvalidJob`] and its job stays running.
    pub fn max_output_bytes(mut self, n: usize) -> Self {
        self.max_output = n;
        self
    }

    pub(crate) fn validate(&self) -> Result<()> {
        crate::ident::validate_table(&self.table)?;
        if self.lease_timeout < Duration::from_millis(10) {
            return Err(QueueError::InvalidConfig(
                "lease timeout must be at least 10 ms".into(),
            ));
        }
        if self.connect_timeout.is_zero() {
            return Err(QueueError::InvalidConfig(
                "connect timeout must be more than zero".into(),
            ));
        }
        Ok(())
    }

    /// The reclaim period.
    pub(crate) fn reclaim_every(&self, lease: Duration) -> Duration {
        self.maintenance_every
            .unwrap_or_else(|| (lease / 4).clamp(Duration::from_millis(50), Duration::from_secs(1)))
    }
}
