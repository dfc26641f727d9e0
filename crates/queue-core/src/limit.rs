//! Limits on how many jobs of a kind run at once, and how often they start, stored in the
//! backend and enforced by every claim of every process ([`Queue::set_limit`]).
//!
//! [`Queue::set_limit`]: crate::Queue::set_limit

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::{QueueError, Result};

/// Longest accepted concurrency key, in bytes.
pub const MAX_CONCURRENCY_KEY_LEN: usize = 255;

/// The shortest and longest rate period accepted: 1 ms to one year.
pub const RATE_PERIODS: (Duration, Duration) = (
    Duration::from_millis(1),
    Duration::from_secs(366 * 24 * 3600),
);

/// How many of a kind's jobs may run at once and how often they may start, across every
/// worker of every process sharing the queue.
///
/// Each part is optional; a limit with none set limits nothing. Per-key parts apply to
/// each [concurrency key](crate::NewJob::concurrency_key) on its own; jobs without a key
/// are held only by the kind-wide parts.
///
/// ```
/// use std::time::Duration;
/// use queue_core::Limit;
///
/// // One at a time per customer, at most 20 at once in all, 100 starts a minute.
/// let limit = Limit::per_key(1)
///     .with_concurrency(20)
///     .with_rate(100, Duration::from_secs(60));
/// assert_eq!(limit.key_concurrency, Some(1));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Limit {
    /// At most this many jobs of the kind running at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<u32>,
    /// At most this many jobs running at once per concurrency key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_concurrency: Option<u32>,
    /// At most this many starts per period, for the whole kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<Rate>,
    /// At most this many starts per period, per concurrency key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_rate: Option<Rate>,
}

/// At most `count` starts in any window of `period` (a sliding window: the starts are
/// remembered, not approximated by a bucket).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Rate {
    /// Starts allowed per period.
    pub count: u32,
    /// The window's length.
    #[serde(with = "millis")]
    pub period: Duration,
}

impl Limit {
    /// At most `n` jobs of the kind running at once.
    pub fn concurrency(n: u32) -> Self {
        Limit::default().with_concurrency(n)
    }

    /// At most `n` jobs running at once per concurrency key.
    pub fn per_key(n: u32) -> Self {
        Limit::default().with_per_key(n)
    }

    /// At most `count` starts of the kind per `period`.
    pub fn rate(count: u32, period: Duration) -> Self {
        Limit::default().with_rate(count, period)
    }

    /// At most `count` starts per concurrency key per `period`.
    pub fn rate_per_key(count: u32, period: Duration) -> Self {
        Limit::default().with_rate_per_key(count, period)
    }

    /// Adds a kind-wide concurrency limit.
    pub fn with_concurrency(mut self, n: u32) -> Self {
        self.concurrency = Some(n);
        self
    }

    /// Adds a per-key concurrency limit.
    pub fn with_per_key(mut self, n: u32) -> Self {
        self.key_concurrency = Some(n);
        self
    }

    /// Adds a kind-wide rate limit.
    pub fn with_rate(mut self, count: u32, period: Duration) -> Self {
        self.rate = Some(Rate { count, period });
        self
    }

    /// Adds a per-key rate limit.
    pub fn with_rate_per_key(mut self, count: u32, period: Duration) -> Self {
        self.key_rate = Some(Rate { count, period });
        self
    }

    /// Whether any per-key part is set.
    pub fn by_key(&self) -> bool {
        self.key_concurrency.is_some() || self.key_rate.is_some()
    }

    /// Whether no part is set.
    pub fn is_empty(&self) -> bool {
        self == &Limit::default()
    }

    /// Checks the limit as every backend does before storing it: counts of at least 1,
    /// periods within [`RATE_PERIODS`], and at least one part set.
    pub fn check(&self) -> Result<()> {
        let bad = |what: String| Err(QueueError::InvalidRequest(what));
        if self.is_empty() {
            return bad("a limit needs at least one part (use clear_limit to remove one)".into());
        }
        for (name, n) in [
            ("concurrency", self.concurrency),
            ("key concurrency", self.key_concurrency),
        ] {
            if n == Some(0) {
                return bad(format!("{name} limit must be at least 1"));
            }
        }
        for (name, rate) in [("rate", self.rate), ("key rate", self.key_rate)] {
            let Some(rate) = rate else { continue };
            if rate.count == 0 {
                return bad(format!("{name} limit must allow at least 1 start"));
            }
            let (shortest, longest) = RATE_PERIODS;
            if rate.period < shortest || rate.period > longest {
                return bad(format!(
                    "{name} period of {:?} is outside {shortest:?} to {longest:?}",
                    rate.period
                ));
            }
        }
        Ok(())
    }
}

/// Reads like "4 at once, 1 per key at once, 100 per 60s".
impl std::fmt::Display for Limit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if let Some(n) = self.concurrency {
            parts.push(format!("{n} at once"));
        }
        if let Some(n) = self.key_concurrency {
            parts.push(format!("{n} per key at once"));
        }
        if let Some(r) = self.rate {
            parts.push(format!("{} per {:?}", r.count, r.period));
        }
        if let Some(r) = self.key_rate {
            parts.push(format!("{} per key per {:?}", r.count, r.period));
        }
        if parts.is_empty() {
            return f.write_str("no limit");
        }
        f.write_str(&parts.join(", "))
    }
}

impl Rate {
    /// The period in whole milliseconds, as backends store it.
    pub fn period_ms(&self) -> u64 {
        u64::try_from(self.period.as_millis()).unwrap_or(u64::MAX)
    }
}

/// A limited kind as [`Stats`](crate::Stats) shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitStats {
    /// The kind.
    pub kind: String,
    /// Its limit.
    pub limit: Limit,
    /// Its jobs running now (leases not yet expired).
    pub running: u64,
    /// Its due pending jobs that a claim would not take now only because of the limit.
    pub waiting: u64,
}

/// Checks a concurrency key: 1 to [`MAX_CONCURRENCY_KEY_LEN`] bytes, no NUL.
pub fn validate_concurrency_key(key: &str) -> Result<()> {
    if key.is_empty() || key.len() > MAX_CONCURRENCY_KEY_LEN {
        return Err(QueueError::InvalidJob(format!(
            "concurrency key must be 1..={MAX_CONCURRENCY_KEY_LEN} bytes"
        )));
    }
    if key.contains('\0') {
        return Err(QueueError::InvalidJob(
            "concurrency key contains a NUL character".into(),
        ));
    }
    Ok(())
}

mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn empty_zero_and_out_of_range_limits_are_refused() {
        assert!(Limit::default().check().is_err());
        assert!(Limit::concurrency(0).check().is_err());
        assert!(Limit::per_key(0).check().is_err());
        assert!(Limit::rate(0, Duration::from_secs(1)).check().is_err());
        assert!(Limit::rate(1, Duration::ZERO).check().is_err());
        assert!(Limit::rate_per_key(1, Duration::from_secs(400 * 24 * 3600))
            .check()
            .is_err());
        assert!(Limit::per_key(1)
            .with_concurrency(3)
            .with_rate(5, Duration::from_millis(1))
            .check()
            .is_ok());
    }

    #[test]
    fn a_limit_round_trips_through_json() {
        let limit = Limit::per_key(2).with_rate_per_key(10, Duration::from_millis(1500));
        let json = serde_json::to_string(&limit).unwrap();
        assert_eq!(
            json,
            r#"{"key_concurrency":2,"key_rate":{"count":10,"period":1500}}"#
        );
        assert_eq!(serde_json::from_str::<Limit>(&json).unwrap(), limit);
    }

    #[test]
    fn a_limit_reads_as_its_parts() {
        let limit = Limit::concurrency(4)
            .with_per_key(1)
            .with_rate(100, Duration::from_secs(60))
            .with_rate_per_key(3, Duration::from_millis(1500));
        assert_eq!(
            limit.to_string(),
            "4 at once, 1 per key at once, 100 per 60s, 3 per key per 1.5s"
        );
        assert_eq!(Limit::default().to_string(), "no limit");
    }

    #[test]
    fn concurrency_keys_are_checked() {
        assert!(validate_concurrency_key("customer:42").is_ok());
        assert!(validate_concurrency_key("").is_err());
        assert!(validate_concurrency_key("a\0b").is_err());
        assert!(validate_concurrency_key(&"k".repeat(256)).is_err());
    }
}
