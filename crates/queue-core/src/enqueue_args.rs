//! `queue.enqueue_args(value)`: enqueue a typed job in one call.

use std::future::Future;

use crate::{JobArgs, JobId, Queue, Result};

/// Enqueues typed jobs ([`JobArgs`] values) on any [`Queue`], including `Arc<dyn Queue>`
/// and `&dyn Queue`. In [`crate::prelude`].
///
/// ```
/// use queue_core::prelude::*;
///
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct Email { to: String }
/// impl JobArgs for Email {
///     const KIND: &'static str = "email";
/// }
///
/// async fn sign_up(queue: &dyn Queue, to: &str) -> Result<JobId> {
///     queue.enqueue_args(Email { to: to.into() }).await
/// }
/// ```
pub trait EnqueueArgs: Queue {
    /// Enqueues `args` as a job of kind [`JobArgs::KIND`] with the type's defaults:
    /// `enqueue(args.to_job()?)`. A value that does not serialise is
    /// [`QueueError::Payload`](crate::QueueError::Payload), with nothing stored.
    fn enqueue_args<A: JobArgs>(&self, args: A) -> impl Future<Output = Result<JobId>> + Send;
}

// `?Sized` so the method reaches `dyn Queue` through `Arc` and references.
impl<Q: Queue + ?Sized> EnqueueArgs for Q {
    async fn enqueue_args<A: JobArgs>(&self, args: A) -> Result<JobId> {
        let job = args.to_job()?;
        self.enqueue(job).await
    }
}
