//! Where the scheduler gets the time from, and how it waits for it.
//!
//! The run loop and the enqueue retries only ever wait through a [`Clock`], so a test can
//! drive a scheduler with a [`ManualClock`] and never depend on real time passing.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;

/// A future returned by [`Clock::sleep_until`].
pub type Sleep<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// The time source of a scheduler.
pub trait Clock: Send + Sync + 'static {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;

    /// Completes once [`Clock::now`] has reached `deadline` (at once if it already has).
    fn sleep_until(&self, deadline: DateTime<Utc>) -> Sleep<'_>;
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now(&self) -> DateTime<Utc> {
        (**self).now()
    }

    fn sleep_until(&self, deadline: DateTime<Utc>) -> Sleep<'_> {
        (**self).sleep_until(deadline)
    }
}

/// The system's wall clock; the default.
///
/// It waits on Tokio's monotonic timer but re-reads the wall clock at least every
/// [`SystemClock::MAX_NAP`], so a wall-clock step (NTP correction, resume from suspend)
/// delays a due tick by at most that much instead of by the size of the step.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl SystemClock {
    /// The longest single timer wait before the wall clock is read again.
    pub const MAX_NAP: Duration = Duration::from_secs(60);
}

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn sleep_until(&self, deadline: DateTime<Utc>) -> Sleep<'_> {
        Box::pin(async move {
            loop {
                let left = match (deadline - Utc::now()).to_std() {
                    Ok(d) if !d.is_zero() => d,
                    // Negative or zero: the deadline has passed.
                    _ => return,
                };
                tokio::time::sleep(left.min(Self::MAX_NAP)).await;
            }
        })
    }
}

/// A clock that only moves when told to; for tests.
///
/// Clones share the same time, so a test keeps one clone and hands another to
/// [`crate::Scheduler::with_clock`]. Sleepers wake as soon as [`ManualClock::advance`] or
/// [`ManualClock::set`] moves the time to or past their deadline.
///
/// ```
/// use std::time::Duration;
/// use chrono::{TimeZone, Utc};
/// use queue_scheduler::{Clock, ManualClock};
///
/// let clock = ManualClock::new(Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap());
/// clock.advance(Duration::from_secs(90));
/// assert_eq!(clock.now(), Utc.with_ymd_and_hms(2024, 1, 1, 0, 1, 30).unwrap());
/// ```
#[derive(Clone, Debug)]
pub struct ManualClock {
    time: Arc<watch::Sender<DateTime<Utc>>>,
}

impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: DateTime<Utc>) -> Self {
        ManualClock {
            time: Arc::new(watch::Sender::new(start)),
        }
    }

    /// Moves the time forward by `by` and wakes the sleepers whose deadline has come.
    pub fn advance(&self, by: Duration) {
        // A step too large for chrono is a test bug; saturating keeps the clock usable.
        let by = chrono::Duration::from_std(by).unwrap_or(chrono::Duration::MAX);
        self.time.send_modify(|now| {
            *now = now
                .checked_add_signed(by)
                .unwrap_or(DateTime::<Utc>::MAX_UTC);
        });
    }

    /// How many sleeps are waiting on this clock right now. A test can wait for a started
    /// scheduler to be idle (its loop, and any enqueue retry, asleep) before moving time.
    pub fn sleepers(&self) -> usize {
        self.time.receiver_count()
    }

    /// Sets the time. Moving it backwards is allowed (to test a wall-clock step); sleepers
    /// then simply wait longer.
    pub fn set(&self, to: DateTime<Utc>) {
        self.time.send_replace(to);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.time.borrow()
    }

    fn sleep_until(&self, deadline: DateTime<Utc>) -> Sleep<'_> {
        let mut rx = self.time.subscribe();
        Box::pin(async move {
            // The sender lives as long as `self`, which outlives this future, so the
            // only error (sender dropped) cannot happen; there is nothing to wait for then.
            let _ = rx.wait_for(|now| *now >= deadline).await;
        })
    }
}
