//! Query parameters, read one by one so that each bad value gets its own clear 400.

use std::collections::HashMap;
use std::str::FromStr;

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use queue_core::{JobId, JobState};

use crate::error::ApiError;

/// The query string of a request, as names and values.
#[derive(Debug, Default)]
pub(crate) struct Params(HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Query(map) = Query::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::invalid(format!("bad query string: {e}")))?;
        Ok(Params(map))
    }
}

impl Params {
    /// A parameter, with an empty value read as absent (what an empty form field sends).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// The `queue` parameter.
    pub fn queue(&self) -> Option<&str> {
        self.get("queue")
    }

    /// A job state, by its lowercase name.
    pub fn state(&self, name: &str) -> Result<Option<JobState>, ApiError> {
        self.get(name)
            .map(|v| {
                JobState::from_str(v).map_err(|_| {
                    ApiError::invalid(format!(
                        "{name}={v:?} is not a job state (pending, running, completed, failed, cancelled)"
                    ))
                })
            })
            .transpose()
    }

    /// A job id.
    pub fn job_id(&self, name: &str) -> Result<Option<JobId>, ApiError> {
        self.get(name).map(parse_id).transpose()
    }

    /// A whole number.
    pub fn number(&self, name: &str) -> Result<Option<u64>, ApiError> {
        self.get(name)
            .map(|v| {
                v.parse::<u64>()
                    .map_err(|_| ApiError::invalid(format!("{name}={v:?} is not a whole number")))
            })
            .transpose()
    }

    /// A batch size: `default` when absent or 0, at most [`super::MAX_BATCH`].
    pub fn limit(&self, default: usize) -> Result<usize, ApiError> {
        let n = match self.number("limit")? {
            None | Some(0) => default,
            Some(n) => usize::try_from(n).unwrap_or(usize::MAX),
        };
        Ok(n.clamp(1, super::MAX_BATCH))
    }
}

/// A job id from a path or a parameter.
pub(crate) fn parse_id(s: &str) -> Result<JobId, ApiError> {
    s.parse()
        .map_err(|_| ApiError::invalid(format!("{s:?} is not a job id (26 characters of a ULID)")))
}
