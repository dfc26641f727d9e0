//! Wake-ups from other processes. MySQL has no NOTIFY; instead each queue reads the
//! newest job id and the wake counter (watch.sql) every [`Watched::EVERY`], and wakes
//! its idle workers when either changed: another process's enqueue, run now, resume,
//! replay or reclaim. Writes through the queue in this process wake its workers directly.

use std::time::Duration;

use async_trait::async_trait;
use queue_core::{QueueError, Result};

use super::row::{db_err, text_opt};
use super::MySqlQueue;
use crate::watching::Watched;

#[async_trait]
impl Watched for MySqlQueue {
    /// The newest id and the wake counter.
    type Seen = (Option<String>, Option<i64>);
    const EVERY: Duration = Duration::from_secs(1);

    async fn seen(&self) -> Result<Self::Seen> {
        let row = sqlx::query(&self.sql.watch)
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
        let newest =
            text_opt(&row, 0).map_err(|reason| QueueError::Corrupt { id: None, reason })?;
        let wakes: Option<i64> = sqlx::Row::try_get(&row, 1).map_err(db_err)?;
        Ok((newest, wakes))
    }

    fn wake(&self) {
        self.notifier.notify();
    }
}

impl MySqlQueue {
    /// Tells the watches of other processes that jobs may have become due. A failure
    /// costs them only the wait until their workers' next poll.
    pub(super) async fn wake_others(&self) {
        if let Err(e) = sqlx::query(&self.sql.wake).execute(&self.pool).await {
            tracing::debug!(error = %queue_core::ErrorChain(&e), "could not raise the wake counter");
        }
    }
}
