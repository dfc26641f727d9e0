//! Instants as exact integer keys, and saturating arithmetic on them.
//!
//! The queue reads two clocks. The wall clock gives the times it reports (`created_at`,
//! `scheduled_at`, `Lease::expires_at`) and orders due jobs by `scheduled_at`. Every
//! deadline it keeps (lease expiry, delays, backoff, unique windows) is measured on a
//! monotonic clock instead, so a step of the system clock (an administrator, NTP, a VM
//! resumed) neither reclaims a job whose worker still trusts its lease nor releases a
//! delayed job early. After such a step the reported times are off by the step, while
//! the deadlines still fall after the durations asked for.
//!
//! In tests both readings can come from a [`ManualClock`] instead, which moves only when
//! told to.

use std::sync::Arc;
use std::time::{Duration, Instant};

use queue_core::Notifier;
use tokio::sync::Notify;

use time::{Date, OffsetDateTime, Time, UtcOffset};

use crate::ManualClock;

/// Nanoseconds since the Unix epoch: exact, totally ordered index keys.
pub(crate) type Nanos = i128;

/// A moment as the queue sees it: both clocks, read together.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Now {
    /// The wall clock, for the times the queue reports.
    pub wall: OffsetDateTime,
    /// The monotonic clock, for deadlines: nanoseconds from an origin of the queue's own.
    pub mono: Nanos,
}

impl From<OffsetDateTime> for Now {
    /// Both clocks at `t`, as if they agreed: for tests at exact instants.
    fn from(t: OffsetDateTime) -> Now {
        Now {
            wall: t,
            mono: nanos(t),
        }
    }
}

/// `at + d` on the monotonic clock, saturating.
pub(crate) fn mono_after(at: Nanos, d: Duration) -> Nanos {
    at.saturating_add(i128::try_from(d.as_nanos()).unwrap_or(i128::MAX))
}

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

/// The queue's source of time: the system's clocks, or a [`ManualClock`] in tests.
#[derive(Debug)]
pub(crate) struct Clock {
    /// Where the monotonic readings count from; unused with a manual clock.
    origin: Instant,
    manual: Option<ManualClock>,
    /// Added to the system's wall clock: lets tests step it as an administrator or NTP
    /// would.
    #[cfg(test)]
    skew: std::sync::Mutex<time::Duration>,
}

impl Clock {
    /// The system clock.
    pub fn new() -> Self {
        Clock {
            origin: Instant::now(),
            manual: None,
            #[cfg(test)]
            skew: std::sync::Mutex::new(time::Duration::ZERO),
        }
    }

    /// The clock of a queue: `manual` when given, else the system's. An advance of a
    /// manual clock wakes the queue's idle workers (`notifier`) and blocked enqueuers
    /// (`room`), as the time coming would.
    pub fn for_queue(manual: Option<ManualClock>, notifier: &Notifier, room: &Arc<Notify>) -> Self {
        let Some(manual) = manual else {
            return Self::new();
        };
        let (notifier, room) = (notifier.clone(), Arc::downgrade(room));
        manual.on_advance(move || {
            let Some(room) = room.upgrade() else {
                return false; // the queue is gone
            };
            notifier.notify();
            room.notify_waiters();
            true
        });
        Clock {
            manual: Some(manual),
            ..Self::new()
        }
    }

    /// Whether time moves only by [`ManualClock::advance`]: then no timer of the queue's
    /// may wait for a deadline, since real time does not bring it closer.
    pub fn is_manual(&self) -> bool {
        self.manual.is_some()
    }

    /// Both clocks now.
    pub fn now(&self) -> Now {
        if let Some(manual) = &self.manual {
            return manual.read();
        }
        Now {
            wall: self.wall(),
            mono: i128::try_from(self.origin.elapsed().as_nanos()).unwrap_or(i128::MAX),
        }
    }

    /// The wall clock now.
    fn wall(&self) -> OffsetDateTime {
        let now = OffsetDateTime::now_utc();
        #[cfg(test)]
        let now = now + *self.skew.lock().unwrap_or_else(|p| p.into_inner());
        now
    }

    /// Steps the wall clock by `by` (forward when positive).
    #[cfg(test)]
    pub fn step_wall(&self, by: time::Duration) {
        *self.skew.lock().unwrap_or_else(|p| p.into_inner()) += by;
    }
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
