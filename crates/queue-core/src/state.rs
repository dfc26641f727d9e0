//! The states a job moves through.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::QueueError;

/// Where a job is in its life. The same names are used by every backend.
///
/// `pending` → `running` → (`completed` | back to `pending` with backoff | `failed`);
/// `pending` → `cancelled`; `running` → `cancelled` after a cancel request; `failed` →
/// `pending` on replay.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    /// Waiting to run, now or at its scheduled time.
    Pending,
    /// Claimed by a worker that holds its lease.
    Running,
    /// Finished successfully (seen only while completed jobs are retained).
    Completed,
    /// Dead-lettered: attempts exhausted or discarded. The only state replay touches.
    Failed,
    /// Cancelled: before it ran, or while it ran (on request, unless it succeeded).
    Cancelled,
}

impl JobState {
    /// Every state, in lifecycle order.
    pub const ALL: [JobState; 5] = [
        JobState::Pending,
        JobState::Running,
        JobState::Completed,
        JobState::Failed,
        JobState::Cancelled,
    ];

    /// The lowercase name used in storage and APIs.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Pending => "pending",
            JobState::Running => "running",
            JobState::Completed => "completed",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }

    /// True for states a job never leaves on its own.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            JobState::Completed | JobState::Failed | JobState::Cancelled
        )
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JobState {
    type Err = QueueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        JobState::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| QueueError::Corrupt {
                id: None,
                reason: format!("unknown job state {s:?}"),
            })
    }
}
