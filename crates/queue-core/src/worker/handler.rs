//! What handlers return, and how a panicking one is caught.

use std::any::TypeId;
use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use serde::Serialize;
use serde_json::value::RawValue;

/// What a handler returns when a job did not succeed.
///
/// Any `std::error::Error` converts into [`JobError::Retry`], so `?` works in handlers; a
/// payload that does not decode into [`JobError::Discard`].
///
/// ```
/// use std::time::Duration;
/// use queue_core::{Job, JobError};
/// async fn handler(job: Job) -> Result<(), JobError> {
///     let n: u64 = job.args()?;                    // bad payload: discarded
///     if n == 0 { return Err(JobError::discard("zero is never valid")); }
///     if n == 1 { return Err(JobError::snooze(Duration::from_secs(60))); }
///     Ok(())
/// }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum JobError {
    /// A failed attempt: retried with backoff, or dead-lettered when attempts are used up.
    Retry(String),
    /// Give up now: the job moves to `failed` with this reason.
    Discard(String),
    /// Not now: run again after this delay, without using an attempt.
    Snooze(Duration),
}

impl JobError {
    /// A failed attempt with this error.
    pub fn retry(error: impl fmt::Display) -> Self {
        JobError::Retry(error.to_string())
    }
    /// Fail the job now with this reason.
    pub fn discard(reason: impl fmt::Display) -> Self {
        JobError::Discard(reason.to_string())
    }
    /// Run the job again after `delay`, without using an attempt.
    pub fn snooze(delay: Duration) -> Self {
        JobError::Snooze(delay)
    }
}

/// A payload that does not decode (`job.args()?`, [`QueueError::Payload`](crate::QueueError))
/// becomes [`JobError::Discard`], as for a typed handler: no retry can fix it. Any other
/// error becomes [`JobError::Retry`].
impl<E: std::error::Error + Send + Sync + 'static> From<E> for JobError {
    fn from(e: E) -> Self {
        // With its causes: the job's last error is all an operator sees of it later.
        let text = crate::ErrorChain(&e).to_string();
        let err: &(dyn std::error::Error + 'static) = &e;
        match err.downcast_ref::<crate::QueueError>() {
            Some(crate::QueueError::Payload { .. }) => JobError::Discard(text),
            _ => JobError::Retry(text),
        }
    }
}

impl fmt::Display for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JobError::Retry(e) => write!(f, "{e}"),
            JobError::Discard(r) => write!(f, "discarded: {r}"),
            JobError::Snooze(d) => write!(f, "snoozed for {d:?}"),
        }
    }
}

/// What a handler that succeeded leaves to store with its job: the JSON text of its `Ok`
/// value, `None` for `()`.
pub type HandlerOutput = Option<Box<RawValue>>;

/// The future a handler returns, boxed.
pub type HandlerFuture = Pin<Box<dyn Future<Output = Result<HandlerOutput, JobError>> + Send>>;

/// The output of a handler's `Ok` value. One that does not serialise (a map with
/// non-string keys) is not worth running the job again for: the job completes without it.
pub(crate) fn output_of<R: Serialize + 'static>(value: R) -> HandlerOutput {
    if TypeId::of::<R>() == TypeId::of::<()>() {
        return None;
    }
    match serde_json::value::to_raw_value(&value) {
        Ok(raw) => Some(raw),
        Err(e) => {
            tracing::warn!(error = %e, "the handler's output does not serialise; the job completes without it");
            None
        }
    }
}

/// Polls a handler future, turning a panic into an `Err` with the panic message.
pub(crate) struct CatchPanic(pub(crate) HandlerFuture);

impl Future for CatchPanic {
    type Output = Result<Result<HandlerOutput, JobError>, String>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let fut = &mut self.0;
        match std::panic::catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(r)) => Poll::Ready(Ok(r)),
            Err(payload) => Poll::Ready(Err(panic_message(payload.as_ref()))),
        }
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_string()
    }
}
