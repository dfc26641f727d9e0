//! Settings of a [`MemoryQueue`].

use std::time::Duration;

use queue_core::{RetryPolicy, DEFAULT_LEASE_TIMEOUT, MAX_OUTPUT_BYTES};

use crate::{ManualClock, MemoryQueue};

/// Builds a [`MemoryQueue`].
///
/// ```
/// use std::time::Duration;
/// use queue_memory::MemoryQueue;
/// let q = MemoryQueue::builder()
///     .lease_timeout(Duration::from_secs(60))
///     .capacity(10_000)
///     .keep_last_failed(1_000)
///     .build();
/// ```
#[derive(Clone, Debug)]
pub struct MemoryQueueBuilder {
    pub(crate) lease_timeout: Duration,
    pub(crate) retry: RetryPolicy,
    pub(crate) capacity: Option<usize>,
    pub(crate) keep_failed: usize,
    pub(crate) keep_completed: usize,
    pub(crate) max_output: usize,
    pub(crate) clock: Option<ManualClock>,
}

impl Default for MemoryQueueBuilder {
    fn default() -> Self {
        MemoryQueueBuilder {
            lease_timeout: DEFAULT_LEASE_TIMEOUT,
            retry: RetryPolicy::default(),
            capacity: None,
            keep_failed: 10_000,
            keep_completed: 1_000,
            max_output: MAX_OUTPUT_BYTES,
            clock: None,
        }
    }
}

impl MemoryQueueBuilder {
    /// How long a claim holds a job (default 30 s).
    pub fn lease_timeout(mut self, d: Duration) -> Self {
        self.lease_timeout = d;
        self
    }

    /// Backoff between failed attempts (default [`RetryPolicy::default`]).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// At most `n` live (pending or running) jobs (at least 1). Beyond that `enqueue`
    /// waits for room, [`MemoryQueue::try_enqueue`] fails with
    /// [`queue_core::QueueError::Full`], and a batch larger than `n` is refused. Replayed
    /// jobs are let in regardless.
    pub fn capacity(mut self, n: usize) -> Self {
        self.capacity = Some(n.max(1));
        self
    }

    /// How many failed jobs are kept for inspection and replay (default 10,000; the
    /// oldest to fail go first; 0 forgets them at once).
    pub fn keep_last_failed(mut self, n: usize) -> Self {
        self.keep_failed = n;
        self
    }

    /// How many completed and cancelled jobs are kept (default 1,000; the oldest to finish
    /// go first; 0 forgets them at once).
    pub fn keep_last_completed(mut self, n: usize) -> Self {
        self.keep_completed = n;
        self
    }

    /// The longest output `complete_batch` stores with a job, in bytes of JSON (default
    /// [`MAX_OUTPUT_BYTES`], 64 KiB); a longer one is refused with
    /// [`queue_core::QueueError::InvalidJob`] and its job stays running.
    pub fn max_output_bytes(mut self, n: usize) -> Self {
        self.max_output = n;
        self
    }

    /// Measures every delay, backoff, lease and unique window on `clock` instead of the
    /// system's clocks, for tests that step over time instead of sleeping through it. See
    /// [`ManualClock`].
    pub fn clock(mut self, clock: &ManualClock) -> Self {
        self.clock = Some(clock.clone());
        self
    }

    /// The queue. Needs no tokio runtime.
    pub fn build(self) -> MemoryQueue {
        MemoryQueue::from_builder(self)
    }
}
