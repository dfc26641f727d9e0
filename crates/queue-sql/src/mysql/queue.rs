//! The queue traits on MySQL.

use std::sync::atomic::Ordering;
use std::time::Duration;

use async_trait::async_trait;
use queue_core::{
    CancelOutcome, CancelRequests, Completion, Job, JobId, Lease, LeaseStatus, NewJob, Queue,
    Result, Subscription,
};

use super::row::db_err;
use super::{enqueue, retry, MySqlQueue};
use crate::maintenance::Maintain;

#[async_trait]
impl Queue for MySqlQueue {
    fn name(&self) -> &str {
        &self.opts.table
    }

    async fn enqueue(&self, job: NewJob) -> Result<JobId> {
        queue_core::enqueue_one(self, job).await
    }

    async fn enqueue_batch(&self, jobs: Vec<NewJob>) -> Result<Vec<JobId>> {
        self.check_open()?;
        self.resume.enqueuing(&jobs);
        let ids = retry::on_conflict(|| async {
            let mut conn = self.pool.acquire().await.map_err(db_err)?;
            enqueue::insert(&mut conn, &self.sql, &jobs, true).await
        })
        .await?;
        self.notifier.notify();
        Ok(ids)
    }

    async fn dequeue_batch(&self, kinds: &[&str], max: usize) -> Result<Vec<Job>> {
        self.claim(kinds, max).await
    }

    async fn ack_batch(&self, leases: &[Lease]) -> Result<Vec<Result<()>>> {
        self.ack_leases(leases).await
    }

    /// Outputs are pruned with their completed jobs (`keep_completed_for`).
    async fn complete_batch(&self, done: &[Completion]) -> Result<Vec<Result<()>>> {
        self.complete_leases(done).await
    }

    async fn nack(&self, lease: &Lease, error: &str) -> Result<()> {
        self.nack_lease(lease, error).await
    }

    async fn discard(&self, lease: &Lease, reason: &str) -> Result<()> {
        self.discard_lease(lease, reason).await
    }

    async fn snooze(&self, lease: &Lease, delay: Duration) -> Result<()> {
        self.snooze_lease(lease, delay).await
    }

    async fn heartbeat(&self, leases: &[Lease]) -> Result<Vec<LeaseStatus>> {
        self.extend_leases(leases).await
    }

    async fn cancel(&self, id: JobId) -> Result<CancelOutcome> {
        self.cancel_job(id).await
    }

    async fn reclaim(&self) -> Result<u64> {
        self.reclaim_expired().await
    }

    fn lease_timeout(&self) -> Duration {
        self.lease()
    }

    fn set_lease_timeout(&self, timeout: Duration) {
        self.lease_us
            .store(super::lease_us(timeout).max(1_000), Ordering::Relaxed);
    }

    fn subscribe(&self) -> Subscription {
        self.notifier.subscribe()
    }

    /// Requests made through this queue handle. Workers on other handles or processes
    /// learn of a request from their next heartbeat (a third of a lease at most).
    fn cancel_requests(&self) -> CancelRequests {
        self.cancels.listen()
    }

    async fn pause_kind(&self, kind: &str) -> Result<()> {
        self.pause(kind).await
    }

    async fn resume_kind(&self, kind: &str) -> Result<()> {
        self.resume(kind).await
    }

    async fn paused_kinds(&self) -> Result<Vec<String>> {
        self.paused().await
    }

    async fn set_limit(&self, kind: &str, limit: queue_core::Limit) -> Result<()> {
        self.store_limit(kind, limit).await
    }

    async fn clear_limit(&self, kind: &str) -> Result<()> {
        self.remove_limit(kind).await
    }

    async fn limits(&self) -> Result<std::collections::BTreeMap<String, queue_core::Limit>> {
        self.stored_limits().await
    }

    async fn close(&self) -> Result<()> {
        self.closed.store(true, Ordering::Release);
        Ok(())
    }
}
