//! Typed jobs: a serde type that knows its job kind and its defaults.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::{NewJob, QueueError, Result};

/// `#[derive(JobArgs)]` (cargo feature `derive`, on by default): writes the impl from a
/// `#[job(kind = "…", …)]` attribute, with the kind and the defaults checked at compile
/// time. See the `queue-macros` crate for every key.
#[cfg(feature = "derive")]
#[cfg_attr(docsrs, doc(cfg(feature = "derive")))]
pub use queue_macros::JobArgs;

/// Arguments of one kind of job, as a plain serde type.
///
/// Written by hand, only [`JobArgs::KIND`] is needed; [`JobArgs::defaults`] adds what every
/// job of the type should carry. `#[derive(JobArgs)]` writes both from an attribute.
///
/// ```
/// use queue_core::{JobArgs, NewJob};
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct SendEmail { to: String }
/// impl JobArgs for SendEmail {
///     const KIND: &'static str = "email";
///
///     fn defaults(&self, job: NewJob) -> NewJob {
///         job.max_attempts(5).unique(format!("email:{}", self.to))
///     }
/// }
///
/// let job = SendEmail { to: "a@example.com".into() }.to_job().unwrap().priority(3);
/// assert_eq!((job.kind.as_str(), job.max_attempts, job.priority), ("email", 5, 3));
/// ```
pub trait JobArgs: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The job kind these arguments are enqueued under.
    const KIND: &'static str;

    /// Sets this type's defaults (priority, attempts, delay, unique key…) on a job
    /// [`JobArgs::to_job`] has just made. Leaves it unchanged unless overridden.
    fn defaults(&self, job: NewJob) -> NewJob {
        job
    }

    /// A [`NewJob`] of kind [`Self::KIND`] carrying these arguments, with
    /// [`JobArgs::defaults`] applied; builder calls on it override them.
    fn to_job(&self) -> Result<NewJob> {
        let payload = serde_json::to_value(self)
            .map_err(|source| QueueError::Payload { id: None, source })?;
        Ok(self.defaults(NewJob::new(Self::KIND, payload)))
    }
}
