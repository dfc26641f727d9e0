//! Typed jobs: a serde type that knows its job kind.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::{NewJob, QueueError, Result};

/// Arguments of one kind of job, as a plain serde type.
///
/// ```
/// use queue_core::JobArgs;
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct SendEmail { to: String }
/// impl JobArgs for SendEmail { const KIND: &'static str = "email"; }
///
/// let job = SendEmail { to: "a@example.com".into() }.to_job().unwrap().priority(3);
/// assert_eq!(job.kind, "email");
/// ```
pub trait JobArgs: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The job kind these arguments are enqueued under.
    const KIND: &'static str;

    /// A [`NewJob`] of kind [`Self::KIND`] carrying these arguments.
    fn to_job(&self) -> Result<NewJob> {
        let payload = serde_json::to_value(self)
            .map_err(|source| QueueError::Payload { id: None, source })?;
        Ok(NewJob::new(Self::KIND, payload))
    }
}
