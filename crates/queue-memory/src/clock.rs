//! Instants as exact integer keys, and saturating arithmetic on them.

use std::time::Duration;

use time::{Date, OffsetDateTime, Time, UtcOffset};

/// Nanoseconds since the Unix epoch: exact, totally ordered index keys.
pub(crate) type Nanos = i128;

/// `t` as an index key.
pub(crate) fn nanos(t: OffsetDateTime) -> Nanos {
    t.unix_timestamp_nanos()
}

/// `t + d`, saturating at the largest representable instant instead of overflowing.
pub(crate) fn after(t: OffsetDateTime, d: Duration) -> OffsetDateTime {
    time::Duration::try_from(d)
        .ok()
        .and_then(|d| t.checked_add(d))
        .unwrap_or_else(|| OffsetDateTime::new_utc(Date::MAX, Time::MIDNIGHT))
}

/// `t` in UTC, so every stored instant has the same offset.
pub(crate) fn utc(t: OffsetDateTime) -> OffsetDateTime {
    t.to_offset(UtcOffset::UTC)
}

/// How long from `now` until `at` (zero when `at` has passed).
pub(crate) fn until(now: Nanos, at: Nanos) -> Duration {
    let wait = (at - now).max(0);
    Duration::from_nanos(u64::try_from(wait).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_saturates() {
        let now = OffsetDateTime::now_utc();
        assert_eq!(
            after(now, Duration::from_secs(1)) - now,
            time::Duration::SECOND
        );
        assert_eq!(after(now, Duration::MAX).date(), Date::MAX);
    }

    #[test]
    fn until_is_never_negative() {
        assert_eq!(until(10, 5), Duration::ZERO);
        assert_eq!(until(5, 10), Duration::from_nanos(5));
        assert_eq!(until(0, i128::MAX), Duration::from_nanos(u64::MAX));
    }
}
