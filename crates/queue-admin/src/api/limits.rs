//! `api/limits` and `api/kinds/{kind}/limit`: the limits stored in the backend
//! (`Queue::set_limit`), read, replaced and cleared.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::Json;
use queue_core::Limit;
use serde::Serialize;
use serde_json::Value;

use super::params::Params;
use crate::admin::AppState;
use crate::error::ApiError;

/// The parts a limit's JSON may have; anything else is refused rather than ignored, so a
/// misspelt part cannot quietly leave a kind less limited than asked.
const PARTS: [&str; 4] = ["concurrency", "key_concurrency", "rate", "key_rate"];

/// The answer of `api/limits`.
#[derive(Serialize)]
pub(crate) struct LimitsView {
    limits: BTreeMap<String, Limit>,
}

/// The answer of a change: the kind's limit after it, `null` once cleared.
#[derive(Serialize)]
pub(crate) struct KindLimit {
    kind: String,
    limit: Option<Limit>,
}

/// `GET api/limits`: every stored limit, by kind.
pub(crate) async fn list(
    State(app): State<AppState>,
    params: Params,
) -> Result<Json<LimitsView>, ApiError> {
    let q = app.queue(params.queue())?;
    Ok(Json(LimitsView {
        limits: q.backend.limits().await?,
    }))
}

/// `PUT api/kinds/{kind}/limit` with the limit as its JSON body: replaces the kind's
/// whole limit.
pub(crate) async fn set(
    State(app): State<AppState>,
    Path(kind): Path<String>,
    params: Params,
    body: Bytes,
) -> Result<Json<KindLimit>, ApiError> {
    let q = app.queue(params.queue())?;
    let limit = parse(&body)?;
    q.backend.set_limit(&kind, limit.clone()).await?;
    tracing::info!(queue = %q.name, kind, %limit, "queue admin: set limit");
    Ok(Json(KindLimit {
        kind,
        limit: Some(limit),
    }))
}

/// `DELETE api/kinds/{kind}/limit`: the kind is unlimited again.
pub(crate) async fn clear(
    State(app): State<AppState>,
    Path(kind): Path<String>,
    params: Params,
) -> Result<Json<KindLimit>, ApiError> {
    let q = app.queue(params.queue())?;
    q.backend.clear_limit(&kind).await?;
    tracing::info!(queue = %q.name, kind, "queue admin: cleared limit");
    Ok(Json(KindLimit { kind, limit: None }))
}

/// A limit from a request body, checked as the backend would check it.
fn parse(body: &[u8]) -> Result<Limit, ApiError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::invalid(format!(
            "the body must be a limit as JSON, e.g. {{\"key_concurrency\": 1}}: {e}"
        ))
    })?;
    let Value::Object(fields) = &value else {
        return Err(ApiError::invalid("the body must be a JSON object"));
    };
    if let Some(unknown) = fields.keys().find(|k| !PARTS.contains(&k.as_str())) {
        return Err(ApiError::invalid(format!(
            "{unknown:?} is not a part of a limit (concurrency, key_concurrency, rate, key_rate)"
        )));
    }
    let limit: Limit = serde_json::from_value(value).map_err(|e| {
        ApiError::invalid(format!(
            "bad limit: {e} (counts are whole numbers; a rate is {{\"count\": N, \"period\": milliseconds}})"
        ))
    })?;
    limit.check()?;
    Ok(limit)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::time::Duration;

    use super::*;

    #[test]
    fn a_limit_reads_as_stats_shows_it() {
        let limit = Limit::per_key(1)
            .with_concurrency(4)
            .with_rate(100, Duration::from_secs(60));
        let json = serde_json::to_vec(&limit).unwrap();
        assert_eq!(parse(&json).unwrap(), limit);
    }

    #[test]
    fn misspelt_empty_and_bad_limits_are_refused() {
        for (body, says) in [
            (r#"{"per_key": 1}"#, "\"per_key\" is not a part"),
            (
                r#"{"concurrency": 4, "key_concurency": 1}"#,
                "key_concurency",
            ),
            (r#"{}"#, "at least one part"),
            (r#"{"concurrency": 0}"#, "at least 1"),
            (r#"{"concurrency": -1}"#, "bad limit"),
            (r#"{"rate": {"count": 5}}"#, "bad limit"),
            (r#"{"rate": {"count": 5, "period": 0}}"#, "outside"),
            (r#"[1]"#, "JSON object"),
            ("", "as JSON"),
        ] {
            let e = parse(body.as_bytes()).unwrap_err();
            assert_eq!(e.code, "invalid_request", "{body}");
            assert!(e.message.contains(says), "{body}: {}", e.message);
        }
    }
}
