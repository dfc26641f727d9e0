//! `SqlQueue` forwards the queue traits to its dialect.

use std::time::Duration;

use async_trait::async_trait;
use queue_core::{
    Browsable, CancelOutcome, CancelRequests, Completion, Job, JobFilter, JobId, JobState, Lease,
    LeaseStatus, NewJob, Queue, Replayable, Result, Stats, Subscription,
};
use time::OffsetDateTime;

use queue_core::metrics::Enqueued;

use crate::SqlQueue;

#[async_trait]
impl Queue for SqlQueue {
    fn name(&self) -> &str {
        self.backend().name()
    }
    async fn enqueue(&self, job: NewJob) -> Result<JobId> {
        let count = Enqueued::of(std::slice::from_ref(&job));
        let id = self.backend().enqueue(job).await?;
        count.record(self.name());
        Ok(id)
    }
    async fn enqueue_batch(&self, jobs: Vec<NewJob>) -> Result<Vec<JobId>> {
        let count = Enqueued::of(&jobs);
        let ids = self.backend().enqueue_batch(jobs).await?;
        count.record(self.name());
        Ok(ids)
    }
    async fn dequeue(&self, kinds: &[&str]) -> Result<Option<Job>> {
        self.backend().dequeue(kinds).await
    }
    async fn dequeue_batch(&self, kinds: &[&str], max: usize) -> Result<Vec<Job>> {
        self.backend().dequeue_batch(kinds, max).await
    }
    async fn ack(&self, lease: &Lease) -> Result<()> {
        self.backend().ack(lease).await
    }
    async fn ack_batch(&self, leases: &[Lease]) -> Result<Vec<Result<()>>> {
        self.backend().ack_batch(leases).await
    }
    async fn complete_batch(&self, done: &[Completion]) -> Result<Vec<Result<()>>> {
        self.backend().complete_batch(done).await
    }
    async fn nack(&self, lease: &Lease, error: &str) -> Result<()> {
        self.backend().nack(lease, error).await
    }
    async fn discard(&self, lease: &Lease, reason: &str) -> Result<()> {
        self.backend().discard(lease, reason).await
    }
    async fn snooze(&self, lease: &Lease, delay: Duration) -> Result<()> {
        self.backend().snooze(lease, delay).await
    }
    async fn heartbeat(&self, leases: &[Lease]) -> Result<Vec<LeaseStatus>> {
        self.backend().heartbeat(leases).await
    }
    async fn cancel(&self, id: JobId) -> Result<CancelOutcome> {
        self.backend().cancel(id).await
    }
    async fn reclaim(&self) -> Result<u64> {
        self.backend().reclaim().await
    }
    fn lease_timeout(&self) -> Duration {
        self.backend().lease_timeout()
    }
    fn set_lease_timeout(&self, timeout: Duration) {
        self.backend().set_lease_timeout(timeout)
    }
    fn subscribe(&self) -> Subscription {
        self.backend().subscribe()
    }
    fn cancel_requests(&self) -> CancelRequests {
        self.backend().cancel_requests()
    }
    async fn next_due(&self, kinds: &[&str]) -> Option<Duration> {
        self.backend().next_due(kinds).await
    }
    async fn pause_kind(&self, kind: &str) -> Result<()> {
        self.backend().pause_kind(kind).await
    }
    async fn resume_kind(&self, kind: &str) -> Result<()> {
        self.backend().resume_kind(kind).await
    }
    async fn paused_kinds(&self) -> Result<Vec<String>> {
        self.backend().paused_kinds().await
    }

    async fn set_limit(&self, kind: &str, limit: queue_core::Limit) -> Result<()> {
        self.backend().set_limit(kind, limit).await
    }

    async fn clear_limit(&self, kind: &str) -> Result<()> {
        self.backend().clear_limit(kind).await
    }

    async fn limits(&self) -> Result<std::collections::BTreeMap<String, queue_core::Limit>> {
        self.backend().limits().await
    }
    async fn close(&self) -> Result<()> {
        self.backend().close().await
    }
}

#[async_trait]
impl Browsable for SqlQueue {
    async fn list(&self, filter: &JobFilter) -> Result<Vec<Job>> {
        self.backend().list(filter).await
    }
    async fn oldest_due(&self) -> Result<Option<OffsetDateTime>> {
        self.backend().oldest_due().await
    }
    async fn get_job(&self, id: JobId) -> Result<Option<Job>> {
        self.backend().get_job(id).await
    }
    async fn stats(&self) -> Result<Stats> {
        self.backend().stats().await
    }
}

#[async_trait]
impl Replayable for SqlQueue {
    async fn replay(&self, id: JobId) -> Result<bool> {
        self.backend().replay(id).await
    }
    async fn run_now(&self, id: JobId) -> Result<bool> {
        self.backend().run_now(id).await
    }
    async fn delete(&self, id: JobId) -> Result<bool> {
        self.backend().delete(id).await
    }
    async fn purge(&self, state: JobState, older_than: Duration, limit: usize) -> Result<u64> {
        self.backend().purge(state, older_than, limit).await
    }
}
