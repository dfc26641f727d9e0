//! A backend whose every call fails, as one whose server went away would: with a transient
//! error naming the connection URL (password included), or with a permanent one.

use std::time::Duration;

use async_trait::async_trait;
use queue_core::{
    Browsable, CancelOutcome, Completion, Job, JobId, Lease, LeaseStatus, NewJob, Queue,
    QueueError, Replayable, Result, Stats,
};

/// The URL the errors name; its password must never reach a response.
pub const URL: &str = "postgres://app:hunter2@db.internal:5432/jobs";

#[derive(Debug, thiserror::Error)]
#[error("error communicating with {URL}: connection refused")]
struct Refused;

#[derive(Debug, thiserror::Error)]
#[error("relation does not exist (password=hunter2)")]
struct Missing;

/// Fails every call: transiently when `transient`, else for good.
pub struct Broken {
    pub transient: bool,
}

impl Broken {
    fn fail<T>(&self) -> Result<T> {
        Err(if self.transient {
            QueueError::backend(Refused)
        } else {
            QueueError::rejected(Missing)
        })
    }
}

#[async_trait]
impl Queue for Broken {
    async fn enqueue(&self, _: NewJob) -> Result<JobId> {
        self.fail()
    }
    async fn dequeue_batch(&self, _: &[&str], _: usize) -> Result<Vec<Job>> {
        self.fail()
    }
    async fn ack_batch(&self, _: &[Lease]) -> Result<Vec<Result<()>>> {
        self.fail()
    }
    async fn complete_batch(&self, _: &[Completion]) -> Result<Vec<Result<()>>> {
        self.fail()
    }
    async fn nack(&self, _: &Lease, _: &str) -> Result<()> {
        self.fail()
    }
    async fn discard(&self, _: &Lease, _: &str) -> Result<()> {
        self.fail()
    }
    async fn snooze(&self, _: &Lease, _: Duration) -> Result<()> {
        self.fail()
    }
    async fn heartbeat(&self, _: &[Lease]) -> Result<Vec<LeaseStatus>> {
        self.fail()
    }
    async fn cancel(&self, _: JobId) -> Result<CancelOutcome> {
        self.fail()
    }
    async fn reclaim(&self) -> Result<u64> {
        self.fail()
    }
    fn lease_timeout(&self) -> Duration {
        Duration::from_secs(30)
    }
    fn set_lease_timeout(&self, _: Duration) {}
    async fn pause_kind(&self, _: &str) -> Result<()> {
        self.fail()
    }
    async fn resume_kind(&self, _: &str) -> Result<()> {
        self.fail()
    }
    async fn paused_kinds(&self) -> Result<Vec<String>> {
        self.fail()
    }
    async fn set_limit(&self, _kind: &str, _limit: queue_core::Limit) -> Result<()> {
        self.fail()
    }
    async fn clear_limit(&self, _kind: &str) -> Result<()> {
        self.fail()
    }
    async fn limits(&self) -> Result<std::collections::BTreeMap<String, queue_core::Limit>> {
        self.fail()
    }
    async fn close(&self) -> Result<()> {
        self.fail()
    }
}

#[async_trait]
impl Browsable for Broken {
    async fn list(&self, _: &queue_core::JobFilter) -> Result<Vec<Job>> {
        self.fail()
    }
    async fn oldest_due(&self) -> Result<Option<time::OffsetDateTime>> {
        self.fail()
    }
    async fn get_job(&self, _: JobId) -> Result<Option<Job>> {
        self.fail()
    }
    async fn stats(&self) -> Result<Stats> {
        self.fail()
    }
}

#[async_trait]
impl Replayable for Broken {
    async fn replay(&self, _: JobId) -> Result<bool> {
        self.fail()
    }
    async fn run_now(&self, _: JobId) -> Result<bool> {
        self.fail()
    }
    async fn delete(&self, _: JobId) -> Result<bool> {
        self.fail()
    }
    async fn purge(&self, _: queue_core::JobState, _: Duration, _: usize) -> Result<u64> {
        self.fail()
    }
}
