//! The JSON errors of the API: `{"error": {"code": "...", "message": "..."}}` with a
//! status that says whose fault it was.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use queue_core::{ErrorChain, QueueError};
use serde::Serialize;

/// An API error: its HTTP status, a stable machine-readable code and a message for people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// A short stable code: `invalid_request`, `not_found`, `unknown_queue`, `conflict`,
    /// `csrf`, `cross_site`, `unauthorized`, `unavailable`, `internal`.
    pub code: &'static str,
    /// What went wrong, safe to show (no connection URL or password).
    pub message: String,
}

impl ApiError {
    /// 400: the request itself is wrong.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }

    /// 404: no such job (or route).
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 404: the `queue` parameter names no queue of this admin.
    pub fn unknown_queue(name: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "unknown_queue",
            format!("no queue named {name:?}"),
        )
    }

    /// 409: the job is in a state the action does not apply to.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", message)
    }

    /// Any status and code.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }
}

impl From<QueueError> for ApiError {
    fn from(e: QueueError) -> Self {
        match &e {
            QueueError::InvalidJob(m) | QueueError::InvalidRequest(m) => ApiError::invalid(m),
            QueueError::LeaseLost(_) | QueueError::NotClaimed(_) => {
                ApiError::conflict(e.to_string())
            }
            _ if e.is_transient() => {
                let text = ErrorChain(&e).to_string();
                tracing::warn!(error = %text, "queue admin: transient backend error");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    hide_secrets(&text),
                )
            }
            _ => {
                let text = ErrorChain(&e).to_string();
                tracing::error!(error = %text, "queue admin: backend error");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    hide_secrets(&text),
                )
            }
        }
    }
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: &'a str,
    message: &'a str,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body {
            error: Inner {
                code: self.code,
                message: &self.message,
            },
        };
        (self.status, Json(body)).into_response()
    }
}

/// A driver's message with every URL cut down to its scheme and every `password=`-like
/// value hidden: a driver may name where it tried to connect, and that is nobody's business
/// outside the server's own logs.
pub(crate) fn hide_secrets(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    for (i, word) in message.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        match word.find("://") {
            Some(at) => {
                out.push_str(&word[..at + 3]);
                out.push('…');
            }
            None => out.push_str(word),
        }
    }
    queue_core::redact_url(&out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("{0}")]
    struct Driver(String);

    #[test]
    fn statuses_follow_the_error() {
        let cases = [
            (
                QueueError::InvalidRequest("bad".into()),
                400,
                "invalid_request",
            ),
            (
                QueueError::InvalidJob("bad kind".into()),
                400,
                "invalid_request",
            ),
            (
                QueueError::backend(Driver("timed out".into())),
                503,
                "unavailable",
            ),
            (
                QueueError::rejected(Driver("constraint".into())),
                500,
                "internal",
            ),
            (QueueError::Closed, 500, "internal"),
        ];
        for (e, status, code) in cases {
            let api = ApiError::from(e);
            assert_eq!((api.status.as_u16(), api.code), (status, code), "{api:?}");
        }
    }

    #[test]
    fn backend_messages_hide_urls_and_passwords() {
        let e = QueueError::backend(Driver(
            "error connecting to postgres://app:s3cret@db.internal:5432/jobs: refused".into(),
        ));
        let api = ApiError::from(e);
        assert!(!api.message.contains("s3cret"), "{}", api.message);
        assert!(!api.message.contains("db.internal"), "{}", api.message);
        assert!(api.message.contains("refused"), "{}", api.message);

        let e = QueueError::rejected(Driver("host=db user=u password=s3cret failed".into()));
        assert!(!ApiError::from(e).message.contains("s3cret"));
    }
}
