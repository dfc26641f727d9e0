//! Settings shared by both dialects.

use std::time::Duration;

use queue_core::{QueueError, Result, RetryPolicy, DEFAULT_LEASE_TIMEOUT};

/// How a [`crate::SqlQueue`] is set up.
///
/// ```
/// use std::time::Duration;
/// use queue_sql::SqlOptions;
/// let opts = SqlOptions::default()
///     .table("billing_jobs")
///     .lease_timeout(Duration::from_secs(60))
///     .retain_completed(Duration::from_secs(3600));
/// assert_eq!(opts.table_name(), "billing_jobs");
/// ```
#[derive(Clone, Debug)]
pub struct SqlOptions {
    pub(crate) table: String,
    pub(crate) lease_timeout: Duration,
    pub(crate) retry: RetryPolicy,
    pub(crate) retain_completed: Duration,
    pub(crate) retain_failed: Option<Duration>,
    pub(crate) notifications: bool,
    pub(crate) maintenance_every: Option<Duration>,
}

impl Default for SqlOptions {
    fn default() -> Self {
        SqlOptions {
            table: "queue_jobs".into(),
            lease_timeout: DEFAULT_LEASE_TIMEOUT,
            retry: RetryPolicy::default(),
            retain_completed: Duration::from_secs(24 * 3600),
            retain_failed: None,
            notifications: true,
            maintenance_every: None,
        }
    }
}

impl SqlOptions {
    /// The table that holds the jobs (default `queue_jobs`). Checked when the queue is
    /// built: letters, digits and `_`, starting with a letter or `_`, at most 48 bytes.
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
    /// the next pruning).
    pub fn retain_completed(mut self, d: Duration) -> Self {
        self.retain_completed = d;
        self
    }

    /// How long failed jobs are kept (default: forever, so they can be replayed).
    pub fn retain_failed(mut self, d: Duration) -> Self {
        self.retain_failed = Some(d);
        self
    }

    /// Wake idle workers with LISTEN/NOTIFY on Postgres (default on). Turn it off behind
    /// PgBouncer in transaction mode; workers then poll.
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

    pub(crate) fn validate(&self) -> Result<()> {
        crate::ident::validate_table(&self.table)?;
        if self.lease_timeout < Duration::from_millis(10) {
            return Err(QueueError::InvalidConfig(
                "lease timeout must be at least 10 ms".into(),
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
