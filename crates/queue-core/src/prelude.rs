//! What most code that enqueues or runs jobs needs, in one import:
//!
//! ```
//! use queue_core::prelude::*;
//!
//! async fn resize(job: Job, ctx: JobContext) -> Result<(), JobError> {
//!     println!("{} attempt {}", job.kind, ctx.attempt());
//!     Ok(())
//! }
//! ```

pub use crate::{
    Backend, Browsable, Data, EnqueueArgs, Job, JobArgs, JobContext, JobError, JobId, JobState,
    NewJob, Queue, QueueError, Replayable, Result, Worker,
};
