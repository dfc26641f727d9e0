//! Turning script replies and job hashes into jobs; a body that cannot be read is
//! reported with its reason, never a panic.

use std::collections::HashMap;

use fred::prelude::Value;
use queue_core::{ClaimToken, Job, JobId, JobState, Lease};
use time::OffsetDateTime;

/// A job hash as field → value.
pub(crate) type Fields = HashMap<String, String>;

/// Reads a flat `[field, value, …]` array (HGETALL from a script) or a map (HGETALL from
/// a client). Values that are not UTF-8 are replaced lossily; the decoder then rejects
/// them where it matters (the payload).
pub(crate) fn fields(v: Value) -> Fields {
    let mut out = HashMap::new();
    match v {
        Value::Map(map) => {
            for (k, v) in map.inner() {
                if let (Some(k), Some(v)) = (k.as_str(), v.as_str_lossy()) {
                    out.insert(k.to_string(), v.into_owned());
                }
            }
        }
        Value::Array(items) => {
            let mut it = items.into_iter();
            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                if let (Some(k), Some(v)) = (k.as_str_lossy(), v.as_str_lossy()) {
                    out.insert(k.into_owned(), v.into_owned());
                }
            }
        }
        _ => {}
    }
    out
}

/// Milliseconds since the epoch as a time.
pub(crate) fn from_ms(ms: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
}

/// A time as whole milliseconds since the epoch (rounded down).
pub(crate) fn to_ms(t: OffsetDateTime) -> i64 {
    let ms = t.unix_timestamp_nanos().div_euclid(1_000_000);
    i64::try_from(ms).unwrap_or(if ms < 0 { i64::MIN } else { i64::MAX })
}

/// Where the decoder reads a job's fields: a job hash read whole, or a claim's row.
pub(crate) trait Source {
    /// The text of field `name`, if present.
    fn field(&self, name: &str) -> Option<&str>;
}

impl Source for Fields {
    fn field(&self, name: &str) -> Option<&str> {
        self.get(name).map(String::as_str)
    }
}

/// The text of a reply value, without copying: `None` for nil (and for text that is not
/// UTF-8, which the decoder then reports as missing).
pub(crate) fn text(v: &Value) -> Option<&str> {
    match v {
        Value::String(s) => Some(s),
        Value::Bytes(b) => std::str::from_utf8(b).ok(),
        _ => None,
    }
}

/// Decodes a job. A job that was set aside as failed is decoded leniently (an
/// unreadable payload is shown as a JSON string, missing numbers as 0) so admins can see
/// it; anything else that cannot be read is an error with its reason.
pub(crate) fn job(f: &impl Source) -> Result<Job, String> {
    let get = |name: &str| f.field(name).ok_or_else(|| format!("missing field {name}"));
    let id: JobId = get("id")?.parse().map_err(|e| format!("{e}"))?;
    let state: JobState = get("state")?.parse().map_err(|e| format!("{e}"))?;
    let lenient = state == JobState::Failed;
    let num = |name: &str| -> Result<i64, String> {
        match f.field(name).map(|s| s.parse::<i64>()) {
            Some(Ok(n)) => Ok(n),
            _ if lenient => Ok(0),
            Some(Err(_)) => Err(format!("field {name} is not a number")),
            None => Err(format!("missing field {name}")),
        }
    };
    let time = |name: &str| -> Result<OffsetDateTime, String> {
        from_ms(num(name)?).ok_or_else(|| format!("field {name} is out of range"))
    };
    let payload_text = match f.field("payload") {
        Some(p) => p,
        None if lenient => "null",
        None => return Err("missing field payload".into()),
    };
    let payload = match serde_json::from_str(payload_text) {
        Ok(v) => v,
        Err(_) if lenient => serde_json::Value::String(payload_text.to_string()),
        Err(e) => return Err(format!("payload is not JSON: {e}")),
    };
    let kind = match f.field("kind") {
        Some(k) => k.to_string(),
        None if lenient => String::new(),
        None => return Err("missing field kind".into()),
    };
    let lease = if state == JobState::Running {
        let token = num("token")?;
        Some(Lease {
            id,
            token: ClaimToken(token),
            expires_at: time("lease_expires_at")?,
        })
    } else {
        None
    };
    // Only a completed job has one; a completion writes it as JSON text.
    let output = match f.field("output") {
        None => None,
        Some(text) => {
            Some(serde_json::from_str(text).map_err(|e| format!("output is not JSON: {e}"))?)
        }
    };
    let small = |name: &str| -> Result<u32, String> {
        u32::try_from(num(name)?).map_err(|_| format!("field {name} is out of range"))
    };
    Ok(Job {
        id,
        kind,
        payload,
        priority: i32::try_from(num("priority")?).map_err(|_| "priority out of range")?,
        attempts: small("attempts")?,
        max_attempts: small("max_attempts")?,
        created_at: time("created_at")?,
        scheduled_at: time("scheduled_at")?,
        state,
        unique_key: f.field("unique_key").map(str::to_string),
        concurrency_key: f.field("concurrency_key").map(str::to_string),
        last_error: f.field("last_error").map(str::to_string),
        lease,
        output,
        cancel_requested: f.field("cancel_requested").is_some(),
        // Written by every move into a final state; an unreadable one shows as unknown
        // rather than hiding the job.
        finished_at: if state.is_final() {
            f.field("finished_at")
                .and_then(|ms| ms.parse().ok())
                .and_then(from_ms)
        } else {
            None
        },
    })
}

/// An integer reply (scripts return 0/1 flags and counts).
pub(crate) fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or(0)
}

/// A string reply.
pub(crate) fn string(v: &Value) -> String {
    v.as_str_lossy().map(|s| s.into_owned()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Fields {
        [
            ("id", JobId::new().to_string()),
            ("kind", "k".into()),
            ("payload", "{\"a\":1}".into()),
            ("priority", "-3".into()),
            ("attempts", "1".into()),
            ("max_attempts", "3".into()),
            ("created_at", "1700000000123".into()),
            ("scheduled_at", "1700000000123".into()),
            ("state", "pending".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    #[test]
    fn decodes_a_job() {
        let j = job(&base()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(j.priority, -3);
        assert_eq!(to_ms(j.created_at), 1_700_000_000_123);
        assert!(j.lease.is_none());
    }

    #[test]
    fn rejects_bad_bodies_unless_failed() {
        let mut f = base();
        f.insert("payload".into(), "{not json".into());
        assert!(job(&f).is_err());
        f.insert("state".into(), "failed".into());
        let j = job(&f).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(j.payload, serde_json::json!("{not json"));
        f.insert("state".into(), "weird".into());
        assert!(job(&f).is_err());
    }

    #[test]
    fn decodes_an_output_and_rejects_one_that_is_not_json() {
        let mut f = base();
        assert_eq!(job(&f).map(|j| j.output), Ok(None));
        f.insert("state".into(), "completed".into());
        f.insert("output".into(), "{\"n\":[1,2]}".into());
        let j = job(&f).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(j.output, Some(serde_json::json!({"n": [1, 2]})));
        f.insert("output".into(), "{not json".into());
        assert!(job(&f).is_err());
    }

    #[test]
    fn ms_round_trip() {
        for ms in [0, 1, -1, 1_700_000_000_999] {
            assert_eq!(from_ms(ms).map(to_ms), Some(ms));
        }
    }
}
