//! What a dialect without limits answers: a clear refusal, never a silently ignored limit
//! or concurrency key.

use queue_core::{NewJob, QueueError, Result};

/// The error of `set_limit` and friends on a dialect that does not enforce limits yet.
pub(crate) fn refused(dialect: &str) -> QueueError {
    QueueError::InvalidRequest(format!(
        "concurrency and rate limits are not supported on {dialect} yet"
    ))
}

/// Refuses a job with a concurrency key, which this dialect would not honour.
pub(crate) fn check_job(job: &NewJob, dialect: &str) -> Result<()> {
    match job.concurrency_key {
        Some(_) => Err(QueueError::InvalidJob(format!(
            "concurrency keys are not supported on {dialect} yet"
        ))),
        None => Ok(()),
    }
}
