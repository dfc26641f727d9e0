//! `metrics`: what the Prometheus recorder holds, in its text format (feature `prometheus`).

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::admin::AppState;
use crate::error::ApiError;

/// The content type Prometheus scrapers expect of the text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// `GET metrics`: 404 unless [`crate::Admin::metrics`] gave a handle.
pub(crate) async fn render(State(app): State<AppState>) -> Response {
    match &app.metrics {
        Some(handle) => ([(header::CONTENT_TYPE, CONTENT_TYPE)], handle.render()).into_response(),
        None => ApiError::not_found("no metrics here: see Admin::metrics").into_response(),
    }
}
