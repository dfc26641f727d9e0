//! How the suite gets a fresh backend for each check.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use queue_core::{Backend, RetryPolicy, DEFAULT_LEASE_TIMEOUT};

/// The configuration a check needs from its backend.
///
/// Checks that depend on timing (lease expiry, backoff) ask for short durations here
/// rather than sleeping through the production defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Setup {
    /// How long a claim holds a job before it may be reclaimed.
    pub lease_timeout: Duration,
    /// Backoff applied by `nack`.
    pub retry: RetryPolicy,
}

impl Default for Setup {
    /// The production defaults: 30 s leases and [`RetryPolicy::default`].
    fn default() -> Self {
        Setup {
            lease_timeout: DEFAULT_LEASE_TIMEOUT,
            retry: RetryPolicy::default(),
        }
    }
}

impl Setup {
    /// The same setup with another lease timeout.
    pub fn lease(mut self, lease_timeout: Duration) -> Self {
        self.lease_timeout = lease_timeout;
        self
    }

    /// The same setup with another retry policy.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }
}

/// Makes backends for the checks. A backend crate implements it once, in its test, and
/// passes it to [`crate::conformance!`].
#[async_trait]
pub trait Factory: Send + Sync + 'static {
    /// A fresh, empty backend in its own namespace (table, key prefix) configured with
    /// `setup`. Checks run in parallel, so two calls must never share jobs.
    async fn make(&self, setup: Setup) -> Arc<dyn Backend>;

    /// Two handles on one fresh backend, as two processes would hold them: each with its
    /// own connections (where the backend has any) to the same table or key prefix,
    /// configured with `setup`. For checks of what one handle sees of another's calls.
    ///
    /// The default shares one handle, which is right for in-process backends only;
    /// backends with a server or a file override it.
    async fn make_pair(&self, setup: Setup) -> [Arc<dyn Backend>; 2] {
        let q = self.make(setup).await;
        [Arc::clone(&q), q]
    }

    /// Whether the backend enforces limits (`Queue::set_limit`, concurrency keys). One
    /// that does not yet is checked to refuse them with typed errors instead.
    fn limits(&self) -> bool {
        true
    }

    /// Removes what `make` created (tables, keys). Called after each check that passed;
    /// a backend should also sweep leftovers of runs that died.
    async fn cleanup(&self) {}
}
