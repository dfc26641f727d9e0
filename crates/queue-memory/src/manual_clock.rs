//! [`ManualClock`]: time that moves only when a test says so.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use time::OffsetDateTime;

use crate::clock::{after, mono_after, utc, Now};

/// Called on every advance; returns false once what it wakes is gone.
type Listener = Box<dyn Fn() -> bool + Send + Sync>;

/// A clock for tests: both the wall clock and the monotonic clock of the queues built on
/// it stand still until [`ManualClock::advance`] moves them.
///
/// Delays, retry backoff, snoozes, lease expiry and unique windows are all measured on it,
/// so a test can step over an hour without waiting an hour. Advancing wakes the queue's
/// idle workers (its subscribers) and enqueuers waiting for room, as if the time had come.
/// A worker's own timers (its poll interval, heartbeats) stay on real time: advancing past
/// a lease expires it, as a worker that stopped heartbeating would see.
///
/// Clones share one clock; several queues may run on it.
///
/// ```
/// use std::time::Duration;
/// use queue_core::{Job, Queue};
/// use queue_memory::{ManualClock, MemoryQueue};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let clock = ManualClock::new();
/// let queue = MemoryQueue::builder().clock(&clock).build();
/// queue.enqueue(Job::new("report", serde_json::json!({})).delay(Duration::from_secs(3600))).await?;
/// assert!(queue.dequeue(&[]).await?.is_none(), "not due yet");
///
/// clock.advance(Duration::from_secs(3600));
/// assert!(queue.dequeue(&[]).await?.is_some(), "due after the advance");
/// # Ok::<(), queue_core::QueueError>(()) })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct ManualClock {
    inner: Arc<Inner>,
}

struct Inner {
    now: Mutex<Now>,
    listeners: Mutex<Vec<Listener>>,
}

impl ManualClock {
    /// A clock standing at the system's current time.
    pub fn new() -> Self {
        Self::starting_at(OffsetDateTime::now_utc())
    }

    /// A clock standing at `t`: reported times (`created_at`, `scheduled_at`,
    /// `Lease::expires_at`) are then the same on every run.
    pub fn starting_at(t: OffsetDateTime) -> Self {
        ManualClock {
            inner: Arc::new(Inner {
                now: Mutex::new(Now {
                    wall: utc(t),
                    mono: 0,
                }),
                listeners: Mutex::new(Vec::new()),
            }),
        }
    }

    /// The wall-clock time the clock stands at.
    pub fn now(&self) -> OffsetDateTime {
        lock(&self.inner.now).wall
    }

    /// Moves the clock forward by `d` and wakes whatever waits on the queues built on it.
    pub fn advance(&self, d: Duration) {
        {
            let mut now = lock(&self.inner.now);
            now.wall = after(now.wall, d);
            now.mono = mono_after(now.mono, d);
        }
        lock(&self.inner.listeners).retain(|wake| wake());
    }

    /// Both readings, for the queue.
    pub(crate) fn read(&self) -> Now {
        *lock(&self.inner.now)
    }

    /// Calls `wake` after every advance, until it returns false.
    pub(crate) fn on_advance(&self, wake: impl Fn() -> bool + Send + Sync + 'static) {
        lock(&self.inner.listeners).push(Box::new(wake));
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManualClock")
            .field("now", &self.now())
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing panics while these are held; a poisoned one is still consistent.
    m.lock().unwrap_or_else(|p| p.into_inner())
}
