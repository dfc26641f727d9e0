//! A deliberately broken queue, for the harness's own test: it proves the overlap
//! detector sees two live runs of one job when a worker outlives its leases.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use queue_core::{
    CancelOutcome, CancelRequests, Completion, Job, JobId, Lease, LeaseStatus, NewJob, Queue,
    Result, Subscription,
};

/// Wraps a queue; its heartbeat says every lease was renewed without asking the backend.
/// The worker then trusts leases that run out, and the backend hands their jobs to
/// other workers while the first runs go on.
pub struct LyingHeartbeat(pub Arc<dyn Queue>);

#[async_trait]
impl Queue for LyingHeartbeat {
    async fn enqueue(&self, job: NewJob) -> Result<JobId> {
        self.0.enqueue(job).await
    }

    async fn enqueue_batch(&self, jobs: Vec<NewJob>) -> Result<Vec<JobId>> {
        self.0.enqueue_batch(jobs).await
    }

    async fn dequeue_batch(&self, kinds: &[&str], max: usize) -> Result<Vec<Job>> {
        self.0.dequeue_batch(kinds, max).await
    }

    async fn ack_batch(&self, leases: &[Lease]) -> Result<Vec<Result<()>>> {
        self.0.ack_batch(leases).await
    }

    async fn complete_batch(&self, done: &[Completion]) -> Result<Vec<Result<()>>> {
        self.0.complete_batch(done).await
    }

    async fn nack(&self, lease: &Lease, error: &str) -> Result<()> {
        self.0.nack(lease, error).await
    }

    async fn discard(&self, lease: &Lease, reason: &str) -> Result<()> {
        self.0.discard(lease, reason).await
    }

    async fn snooze(&self, lease: &Lease, delay: Duration) -> Result<()> {
        self.0.snooze(lease, delay).await
    }

    async fn heartbeat(&self, leases: &[Lease]) -> Result<Vec<LeaseStatus>> {
        Ok(vec![LeaseStatus::Held; leases.len()])
    }

    async fn cancel(&self, id: JobId) -> Result<CancelOutcome> {
        self.0.cancel(id).await
    }

    async fn reclaim(&self) -> Result<u64> {
        self.0.reclaim().await
    }

    fn lease_timeout(&self) -> Duration {
        self.0.lease_timeout()
    }

    fn set_lease_timeout(&self, timeout: Duration) {
        self.0.set_lease_timeout(timeout)
    }

    fn subscribe(&self) -> Subscription {
        self.0.subscribe()
    }

    fn cancel_requests(&self) -> CancelRequests {
        self.0.cancel_requests()
    }

    async fn next_due(&self, kinds: &[&str]) -> Option<Duration> {
        self.0.next_due(kinds).await
    }

    async fn pause_kind(&self, kind: &str) -> Result<()> {
        self.0.pause_kind(kind).await
    }

    async fn resume_kind(&self, kind: &str) -> Result<()> {
        self.0.resume_kind(kind).await
    }

    async fn paused_kinds(&self) -> Result<Vec<String>> {
        self.0.paused_kinds().await
    }

    async fn set_limit(&self, kind: &str, limit: queue_core::Limit) -> Result<()> {
        self.0.set_limit(kind, limit).await
    }

    async fn clear_limit(&self, kind: &str) -> Result<()> {
        self.0.clear_limit(kind).await
    }

    async fn limits(&self) -> Result<std::collections::BTreeMap<String, queue_core::Limit>> {
        self.0.limits().await
    }

    async fn close(&self) -> Result<()> {
        self.0.close().await
    }
}
