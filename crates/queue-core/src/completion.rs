//! Completing claimed jobs with what their handlers returned: [`Completion`], the bound
//! on a stored output ([`MAX_OUTPUT_BYTES`]), and [`CheckedCompletions`], the checks every
//! backend runs before it writes a batch.

use serde::Serialize;
use serde_json::value::RawValue;

use crate::job::has_nul;
use crate::{Lease, QueueError, Result};

/// Largest output stored with a completed job by default, in bytes of its JSON text.
/// Backends take another limit from their builder or options.
pub const MAX_OUTPUT_BYTES: usize = 64 * 1024;

/// A claimed job to complete, with its handler's output, for `Queue::complete_batch`.
///
/// The output is JSON text, serialised once by the caller and stored as that text:
/// backends check it ([`Completion::checked_output`]) but never serialise it again. `None`
/// and a JSON `null` both store nothing and cost what an ack costs.
///
/// ```
/// use queue_core::{ClaimToken, Completion, JobId, Lease};
/// # let lease = Lease { id: JobId::new(), token: ClaimToken(1),
/// #     expires_at: time::OffsetDateTime::UNIX_EPOCH };
/// let done = Completion::with_output(lease, &serde_json::json!({"sent": 3}))?;
/// assert_eq!(done.output.as_ref().map(|o| o.get()), Some(r#"{"sent":3}"#));
/// let plain = Completion::new(lease);
/// assert!(plain.output.is_none());
/// # Ok::<(), queue_core::QueueError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Completion {
    /// The claim being completed.
    pub lease: Lease,
    /// What the handler returned, as JSON text.
    pub output: Option<Box<RawValue>>,
}

impl Completion {
    /// Completes `lease` with no output.
    pub fn new(lease: Lease) -> Self {
        Completion {
            lease,
            output: None,
        }
    }

    /// Completes `lease` with `output` serialised to JSON.
    ///
    /// Fails with [`QueueError::Payload`] when `output` cannot be serialised (a map with
    /// non-string keys, a failing `Serialize` impl).
    pub fn with_output<T: Serialize + ?Sized>(lease: Lease, output: &T) -> Result<Self> {
        let raw =
            serde_json::value::to_raw_value(output).map_err(|source| QueueError::Payload {
                id: Some(lease.id),
                source,
            })?;
        Ok(Completion {
            lease,
            output: Some(raw),
        })
    }

    /// The JSON text to store, `None` when there is nothing to store, or
    /// [`QueueError::InvalidJob`] when the output is longer than `limit` bytes, holds a
    /// NUL character (which Postgres cannot store; refused everywhere so that every
    /// backend agrees), or would not read back as a [`serde_json::Value`]: a raw value
    /// may hold a lone surrogate escape or a number out of range, which
    /// [`Completion::with_output`] never makes.
    pub fn checked_output(&self, limit: usize) -> Result<Option<&str>> {
        let Some(raw) = &self.output else {
            return Ok(None);
        };
        let text = raw.get().trim();
        if text == "null" {
            return Ok(None);
        }
        if text.len() > limit {
            return Err(QueueError::InvalidJob(format!(
                "output of job {} is {} bytes; the limit is {limit}",
                self.lease.id,
                text.len()
            )));
        }
        // Parsed only to check it; what is stored is the caller's text.
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            QueueError::InvalidJob(format!(
                "output of job {} does not read back as JSON: {e}",
                self.lease.id
            ))
        })?;
        if has_nul(&value) {
            return Err(QueueError::InvalidJob(format!(
                "output of job {} contains a NUL character (\\u0000)",
                self.lease.id
            )));
        }
        Ok(Some(text))
    }
}

/// A batch of [`Completion`]s after [`Completion::checked_output`]: the entries to write,
/// and the refused ones, which change nothing. Backends write [`leases`](Self::leases)
/// (with [`outputs`](Self::outputs) when [`any_output`](Self::any_output), else by their
/// plain ack) and hand the results to [`merge`](Self::merge).
#[derive(Debug)]
pub struct CheckedCompletions<'a> {
    /// The leases to complete, in batch order.
    pub leases: Vec<Lease>,
    /// The output text of each of `leases` (`None`: store none).
    pub outputs: Vec<Option<&'a str>>,
    /// The refused entries: their position in the batch and why.
    refused: Vec<(usize, QueueError)>,
}

impl<'a> CheckedCompletions<'a> {
    /// Checks every entry of `done` against `limit` bytes of output.
    pub fn new(done: &'a [Completion], limit: usize) -> Self {
        let mut leases = Vec::with_capacity(done.len());
        let mut outputs = Vec::with_capacity(done.len());
        let mut refused = Vec::new();
        for (i, c) in done.iter().enumerate() {
            match c.checked_output(limit) {
                Ok(out) => {
                    leases.push(c.lease);
                    outputs.push(out);
                }
                Err(e) => refused.push((i, e)),
            }
        }
        CheckedCompletions {
            leases,
            outputs,
            refused,
        }
    }

    /// Whether any entry to write stores an output; when none does, the batch is a plain
    /// ack.
    pub fn any_output(&self) -> bool {
        self.outputs.iter().any(Option::is_some)
    }

    /// One result per entry of the original batch, in order: `written` (one per
    /// [`leases`](Self::leases), in order) with the refusals put back in their places.
    pub fn merge(self, written: Vec<Result<()>>) -> Vec<Result<()>> {
        if self.refused.is_empty() {
            return written;
        }
        let total = written.len() + self.refused.len();
        let mut refused = self.refused.into_iter().peekable();
        let mut written = written.into_iter();
        (0..total)
            .filter_map(|i| match refused.peek() {
                Some((at, _)) if *at == i => refused.next().map(|(_, e)| Err(e)),
                _ => written.next(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::{ClaimToken, JobId};

    fn lease() -> Lease {
        Lease {
            id: JobId::new(),
            token: ClaimToken(7),
            expires_at: time::OffsetDateTime::UNIX_EPOCH,
        }
    }

    fn raw(text: &str) -> Completion {
        Completion {
            lease: lease(),
            output: Some(RawValue::from_string(text.to_string()).unwrap()),
        }
    }

    #[test]
    fn null_and_none_store_nothing() {
        assert_eq!(Completion::new(lease()).checked_output(10).unwrap(), None);
        assert_eq!(raw("null").checked_output(10).unwrap(), None);
        assert_eq!(raw(" null ").checked_output(10).unwrap(), None);
        assert_eq!(raw("[1]").checked_output(10).unwrap(), Some("[1]"));
    }

    #[test]
    fn the_limit_counts_bytes_of_json_text() {
        let at_limit = raw(r#""abcd""#);
        assert_eq!(at_limit.checked_output(6).unwrap(), Some(r#""abcd""#));
        assert!(matches!(
            at_limit.checked_output(5),
            Err(QueueError::InvalidJob(m)) if m.contains("limit is 5")
        ));
    }

    #[test]
    fn nul_is_refused_but_an_escaped_backslash_is_not() {
        assert!(raw(r#""a\u0000""#).checked_output(100).is_err());
        assert!(raw(r#"{"\u0000":1}"#).checked_output(100).is_err());
        assert!(raw(r#""\\\u0000""#).checked_output(100).is_err());
        assert!(raw(r#""\\u0000""#).checked_output(100).is_ok());
        assert!(raw(r#""\\\\u0000""#).checked_output(100).is_ok());
        let from_rust = Completion::with_output(lease(), "nul \0 here").unwrap();
        assert!(from_rust.checked_output(100).is_err());
    }

    #[test]
    fn raw_text_that_would_not_read_back_is_refused() {
        for text in [r#""\ud800""#, r#"["\udc00x"]"#, "1e400"] {
            let done = raw(text);
            let r = done.checked_output(100);
            assert!(
                matches!(&r, Err(QueueError::InvalidJob(m)) if m.contains("read back")),
                "{text}: {r:?}"
            );
        }
    }

    #[test]
    fn merge_puts_refusals_back_in_place() {
        let big = raw(r#""far too long for the limit""#);
        let batch = [big.clone(), raw("1"), big.clone(), raw("2"), big];
        let checked = CheckedCompletions::new(&batch, 4);
        assert_eq!(checked.leases.len(), 2);
        assert_eq!(checked.outputs, vec![Some("1"), Some("2")]);
        let merged = checked.merge(vec![Ok(()), Err(QueueError::LeaseLost(batch[3].lease.id))]);
        let shape: Vec<&str> = merged
            .iter()
            .map(|r| match r {
                Ok(()) => "ok",
                Err(QueueError::InvalidJob(_)) => "invalid",
                Err(QueueError::LeaseLost(_)) => "lost",
                Err(_) => "other",
            })
            .collect();
        assert_eq!(shape, ["invalid", "ok", "invalid", "lost", "invalid"]);
    }
}
