//! Enqueue on the caller's own connection or transaction.

use async_trait::async_trait;
use queue_core::{JobId, NewJob, QueueError, Result};

use crate::SqlQueue;

/// A connection a job can be enqueued on: `PgConnection`, `SqliteConnection` or
/// `MySqlConnection`, which is
/// what `&mut *tx` gives for a sqlx `Transaction`.
#[async_trait]
pub trait TxConnection: Send {
    /// Inserts `job` for `queue` on this connection.
    async fn enqueue_job(&mut self, queue: &SqlQueue, job: NewJob) -> Result<JobId>;
}

fn wrong_dialect(queue: &SqlQueue) -> QueueError {
    QueueError::InvalidConfig(format!(
        "this connection's database does not match the queue's ({:?})",
        queue.dialect()
    ))
}

#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
#[async_trait]
impl TxConnection for sqlx::PgConnection {
    async fn enqueue_job(&mut self, queue: &SqlQueue, job: NewJob) -> Result<JobId> {
        match queue.postgres() {
            Some(q) => q.enqueue_on(self, job).await,
            None => Err(wrong_dialect(queue)),
        }
    }
}

#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
#[async_trait]
impl TxConnection for sqlx::SqliteConnection {
    async fn enqueue_job(&mut self, queue: &SqlQueue, job: NewJob) -> Result<JobId> {
        match queue.sqlite() {
            Some(q) => q.enqueue_on(self, job).await,
            None => Err(wrong_dialect(queue)),
        }
    }
}

#[cfg(feature = "mysql")]
#[cfg_attr(docsrs, doc(cfg(feature = "mysql")))]
#[async_trait]
impl TxConnection for sqlx::MySqlConnection {
    async fn enqueue_job(&mut self, queue: &SqlQueue, job: NewJob) -> Result<JobId> {
        match queue.mysql() {
            Some(q) => q.enqueue_on(self, job).await,
            None => Err(wrong_dialect(queue)),
        }
    }
}
