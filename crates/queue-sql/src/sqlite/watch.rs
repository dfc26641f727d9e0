//! Wake-ups from other processes. SQLite has no NOTIFY; instead the writer's connection
//! reads `PRAGMA data_version` every [`Watched::EVERY`], which changes only when another
//! connection committed: another process's enqueue (or any of its writes), or a caller's
//! own transaction in this process. Writes made through the queue in this process wake
//! its workers directly and leave the counter alone, so an idle process pays one cheap
//! read per tick and its workers wake only when the file really changed.

use std::time::Duration;

use async_trait::async_trait;
use queue_core::Result;

use super::busy::retry_busy;
use super::row::db_err;
use super::SqliteQueue;
use crate::watching::Watched;

#[async_trait]
impl Watched for SqliteQueue {
    type Seen = i64;
    const EVERY: Duration = Duration::from_millis(25);

    /// The writer connection's `data_version`.
    async fn seen(&self) -> Result<i64> {
        let mut turn = self.write_turn().await?;
        let r = retry_busy!(
            sqlx::query_scalar(&self.sql.data_version)
                .fetch_one(&mut *turn)
                .await
        );
        self.writer.checked(r.map_err(db_err))
    }

    fn wake(&self) {
        self.notifier.notify();
    }
}
