//! A queue wrapper that counts calls, to measure what an idle worker costs.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use queue_core::{
    CancelOutcome, CancelRequests, Completion, Job, JobId, Lease, LeaseStatus, NewJob, Queue,
    Result, Subscription,
};

/// Forwards every call to the inner queue and counts the ones that reach the backend.
pub struct Counting {
    inner: Arc<dyn Queue>,
    calls: AtomicU64,
    claims: AtomicU64,
    claimed: AtomicU64,
    acks: AtomicU64,
    acked: AtomicU64,
}

impl Counting {
    pub fn new(inner: Arc<dyn Queue>) -> Self {
        Counting {
            inner,
            calls: AtomicU64::new(0),
            claims: AtomicU64::new(0),
            claimed: AtomicU64::new(0),
            acks: AtomicU64::new(0),
            acked: AtomicU64::new(0),
        }
    }

    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// Average jobs per claim call and per ack call.
    pub fn batch_sizes(&self) -> (f64, f64) {
        let avg = |n: &AtomicU64, calls: &AtomicU64| {
            n.load(Ordering::Relaxed) as f64 / calls.load(Ordering::Relaxed).max(1) as f64
        };
        (
            avg(&self.claimed, &self.claims),
            avg(&self.acked, &self.acks),
        )
    }

    fn count(&self) {
        self.calls.fetch_add(1, Ordering::Relaxed);
    }
}

#[async_trait]
impl Queue for Counting {
    async fn enqueue(&self, job: NewJob) -> Result<JobId> {
        self.count();
        self.inner.enqueue(job).await
    }
    async fn dequeue_batch(&self, kinds: &[&str], max: usize) -> Result<Vec<Job>> {
        self.count();
        let jobs = self.inner.dequeue_batch(kinds, max).await?;
        self.claims.fetch_add(1, Ordering::Relaxed);
        self.claimed.fetch_add(jobs.len() as u64, Ordering::Relaxed);
        Ok(jobs)
    }
    async fn ack_batch(&self, leases: &[Lease]) -> Result<Vec<Result<()>>> {
        self.count();
        self.acks.fetch_add(1, Ordering::Relaxed);
        self.acked.fetch_add(leases.len() as u64, Ordering::Relaxed);
        self.inner.ack_batch(leases).await
    }
    async fn complete_batch(&self, done: &[Completion]) -> Result<Vec<Result<()>>> {
        self.count();
        self.acks.fetch_add(1, Ordering::Relaxed);
        self.acked.fetch_add(done.len() as u64, Ordering::Relaxed);
        self.inner.complete_batch(done).await
    }
    async fn nack(&self, lease: &Lease, error: &str) -> Result<()> {
        self.count();
        self.inner.nack(lease, error).await
    }
    async fn discard(&self, lease: &Lease, reason: &str) -> Result<()> {
        self.count();
        self.inner.discard(lease, reason).await
    }
    async fn snooze(&self, lease: &Lease, delay: Duration) -> Result<()> {
        self.count();
        self.inner.snooze(lease, delay).await
    }
    async fn heartbeat(&self, leases: &[Lease]) -> Result<Vec<LeaseStatus>> {
        self.count();
        self.inner.heartbeat(leases).await
    }
    async fn cancel(&self, id: JobId) -> Result<CancelOutcome> {
        self.count();
        self.inner.cancel(id).await
    }
    async fn reclaim(&self) -> Result<u64> {
        self.count();
        self.inner.reclaim().await
    }
    fn lease_timeout(&self) -> Duration {
        self.inner.lease_timeout()
    }
    fn set_lease_timeout(&self, timeout: Duration) {
        self.inner.set_lease_timeout(timeout)
    }
    fn subscribe(&self) -> Subscription {
        self.inner.subscribe()
    }
    fn cancel_requests(&self) -> CancelRequests {
        self.inner.cancel_requests()
    }
    async fn next_due(&self, kinds: &[&str]) -> Option<Duration> {
        self.count();
        self.inner.next_due(kinds).await
    }
    async fn pause_kind(&self, kind: &str) -> Result<()> {
        self.count();
        self.inner.pause_kind(kind).await
    }
    async fn resume_kind(&self, kind: &str) -> Result<()> {
        self.count();
        self.inner.resume_kind(kind).await
    }
    async fn paused_kinds(&self) -> Result<Vec<String>> {
        self.count();
        self.inner.paused_kinds().await
    }

    async fn set_limit(&self, kind: &str, limit: queue_core::Limit) -> Result<()> {
        self.count();
        self.inner.set_limit(kind, limit).await
    }

    async fn clear_limit(&self, kind: &str) -> Result<()> {
        self.count();
        self.inner.clear_limit(kind).await
    }

    async fn limits(&self) -> Result<std::collections::BTreeMap<String, queue_core::Limit>> {
        self.count();
        self.inner.limits().await
    }
    async fn close(&self) -> Result<()> {
        self.inner.close().await
    }
}
