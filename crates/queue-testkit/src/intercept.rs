//! A queue that forwards every call to another, with hooks around claims and heartbeats:
//! how worker tests stage a server that answers late or hangs, without a server.
//!
//! ```
//! use std::sync::Arc;
//! use queue_core::Job;
//! use queue_testkit::intercept::{Hooks, Intercepted};
//!
//! /// Every claim answers 50 ms late.
//! struct Late;
//!
//! #[async_trait::async_trait]
//! impl Hooks for Late {
//!     async fn claimed(&self, _jobs: &[Job]) {
//!         tokio::time::sleep(std::time::Duration::from_millis(50)).await;
//!     }
//! }
//!
//! # fn demo(inner: Arc<dyn queue_core::Queue>) {
//! let late = Arc::new(Intercepted::new(inner, Late));
//! # }
//! ```

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use queue_core::{
    CancelOutcome, CancelRequests, Completion, Job, JobId, Lease, LeaseStatus, NewJob, Queue,
    Result, Subscription,
};

/// What a test does around the calls it intercepts; every hook does nothing by default.
#[async_trait]
pub trait Hooks: Send + Sync + 'static {
    /// Runs after a claim took `jobs` from the inner queue, before the caller sees them.
    async fn claimed(&self, _jobs: &[Job]) {}
    /// Runs before a heartbeat reaches the inner queue.
    async fn heartbeat(&self) {}
    /// Runs when a caller starts listening for cancel requests.
    fn listening(&self) {}
}

/// Heartbeats that hang while the server is "down" ([`HangingHeartbeats::set_down`]), as
/// calls to a vanished server do until they time out.
#[derive(Debug, Default)]
pub struct HangingHeartbeats {
    down: AtomicBool,
}

impl HangingHeartbeats {
    /// Takes the server down (heartbeats hang) or brings it back.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    /// Returns once the server is up.
    pub async fn wait_while_down(&self) {
        while self.down.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

#[async_trait]
impl Hooks for HangingHeartbeats {
    async fn heartbeat(&self) {
        self.wait_while_down().await;
    }
}

/// `inner` with `hooks` around its claims and heartbeats; every other call is forwarded.
pub struct Intercepted<H> {
    inner: Arc<dyn Queue>,
    hooks: H,
}

impl<H: Hooks> Intercepted<H> {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn Queue>, hooks: H) -> Self {
        Intercepted { inner, hooks }
    }

    /// The hooks, for the test to steer.
    pub fn hooks(&self) -> &H {
        &self.hooks
    }
}

#[async_trait]
impl<H: Hooks> Queue for Intercepted<H> {
    async fn enqueue(&self, job: NewJob) -> Result<JobId> {
        self.inner.enqueue(job).await
    }

    async fn enqueue_batch(&self, jobs: Vec<NewJob>) -> Result<Vec<JobId>> {
        self.inner.enqueue_batch(jobs).await
    }

    async fn dequeue_batch(&self, kinds: &[&str], max: usize) -> Result<Vec<Job>> {
        let jobs = self.inner.dequeue_batch(kinds, max).await?;
        self.hooks.claimed(&jobs).await;
        Ok(jobs)
    }

    async fn ack(&self, lease: &Lease) -> Result<()> {
        self.inner.ack(lease).await
    }

    async fn ack_batch(&self, leases: &[Lease]) -> Result<Vec<Result<()>>> {
        self.inner.ack_batch(leases).await
    }

    async fn complete_batch(&self, done: &[Completion]) -> Result<Vec<Result<()>>> {
        self.inner.complete_batch(done).await
    }

    async fn nack(&self, lease: &Lease, error: &str) -> Result<()> {
        self.inner.nack(lease, error).await
    }

    async fn discard(&self, lease: &Lease, reason: &str) -> Result<()> {
        self.inner.discard(lease, reason).await
    }

    async fn snooze(&self, lease: &Lease, delay: Duration) -> Result<()> {
        self.inner.snooze(lease, delay).await
    }

    async fn heartbeat(&self, leases: &[Lease]) -> Result<Vec<LeaseStatus>> {
        self.hooks.heartbeat().await;
        self.inner.heartbeat(leases).await
    }

    async fn cancel(&self, id: JobId) -> Result<CancelOutcome> {
        self.inner.cancel(id).await
    }

    async fn reclaim(&self) -> Result<u64> {
        self.inner.reclaim().await
    }

    fn lease_timeout(&self) -> Duration {
        self.inner.lease_timeout()
    }

    fn set_lease_timeout(&self, timeout: Duration) {
        self.inner.set_lease_timeout(timeout);
    }

    fn subscribe(&self) -> Subscription {
        self.inner.subscribe()
    }

    fn cancel_requests(&self) -> CancelRequests {
        self.hooks.listening();
        self.inner.cancel_requests()
    }

    async fn next_due(&self, kinds: &[&str]) -> Option<Duration> {
        self.inner.next_due(kinds).await
    }

    async fn pause_kind(&self, kind: &str) -> Result<()> {
        self.inner.pause_kind(kind).await
    }

    async fn resume_kind(&self, kind: &str) -> Result<()> {
        self.inner.resume_kind(kind).await
    }

    async fn paused_kinds(&self) -> Result<Vec<String>> {
        self.inner.paused_kinds().await
    }

    async fn set_limit(&self, kind: &str, limit: queue_core::Limit) -> Result<()> {
        self.inner.set_limit(kind, limit).await
    }

    async fn clear_limit(&self, kind: &str) -> Result<()> {
        self.inner.clear_limit(kind).await
    }

    async fn limits(&self) -> Result<std::collections::BTreeMap<String, queue_core::Limit>> {
        self.inner.limits().await
    }

    async fn close(&self) -> Result<()> {
        self.inner.close().await
    }
}
