//! How long a failed job waits before its next attempt.

use std::time::Duration;

/// Exponential backoff with a cap and optional jitter.
///
/// The n-th retry (after attempt `n`) waits `base * 2^(n-1)`, capped at `max`. With jitter
/// `j` (0.0–1.0) the wait is drawn uniformly from `[d * (1 - j), d]`, which spreads retry
/// storms without ever waiting longer than the cap.
///
/// A zero `base` retries at once; a zero `max` means no cap.
///
/// ```
/// use std::time::Duration;
/// use queue_core::RetryPolicy;
/// let p = RetryPolicy::exponential(Duration::from_secs(1), Duration::from_secs(10)).jitter(0.0);
/// assert_eq!(p.delay(1), Duration::from_secs(1));
/// assert_eq!(p.delay(3), Duration::from_secs(4));
/// assert_eq!(p.delay(9), Duration::from_secs(10));
/// ```
///
/// The fields are private so that every policy a backend sees is valid: the jitter is a
/// finite fraction in 0.0–1.0 (a NaN once reached a Redis score and stranded a job).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RetryPolicy {
    base: Duration,
    max: Duration,
    jitter: f64,
}

impl RetryPolicy {
    /// `base * 2^(attempt-1)` capped at `max`, with 20 % jitter.
    pub fn exponential(base: Duration, max: Duration) -> Self {
        RetryPolicy {
            base,
            max,
            jitter: 0.2,
        }
    }

    /// Retry at once, every time.
    pub fn immediate() -> Self {
        RetryPolicy {
            base: Duration::ZERO,
            max: Duration::ZERO,
            jitter: 0.0,
        }
    }

    /// Sets the jitter fraction (clamped to 0.0–1.0; NaN means none).
    pub fn jitter(mut self, j: f64) -> Self {
        self.jitter = if j.is_nan() { 0.0 } else { j.clamp(0.0, 1.0) };
        self
    }

    /// Wait after the first failed attempt.
    pub fn base(&self) -> Duration {
        self.base
    }

    /// Longest wait; zero means uncapped.
    pub fn max(&self) -> Duration {
        self.max
    }

    /// Fraction of the wait that is randomised, always within 0.0–1.0.
    pub fn jitter_fraction(&self) -> f64 {
        self.jitter
    }

    /// `base * 2^(attempt-1)` without cap or jitter; saturates instead of overflowing,
    /// whatever the attempt (retry-forever jobs reach attempt 10,000 and more).
    fn unjittered(&self, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(1).min(63);
        let factor = 1u64 << exp;
        let nanos = self.base.as_nanos().saturating_mul(u128::from(factor));
        Duration::from_nanos(nanos.min(u128::from(u64::MAX)) as u64)
    }

    /// The wait before the retry that follows failed attempt number `attempt` (1-based).
    pub fn delay(&self, attempt: u32) -> Duration {
        if self.base.is_zero() {
            return Duration::ZERO;
        }
        let mut d = self.unjittered(attempt);
        if !self.max.is_zero() && d > self.max {
            d = self.max;
        }
        if self.jitter > 0.0 {
            let cut = d.as_secs_f64() * self.jitter * fastrand::f64();
            d = d.saturating_sub(Duration::from_secs_f64(cut));
        }
        d
    }
}

impl Default for RetryPolicy {
    /// 1 s, doubling, capped at 1 hour, 20 % jitter.
    fn default() -> Self {
        RetryPolicy::exponential(Duration::from_secs(1), Duration::from_secs(3600))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_semantics_without_jitter() {
        let p = RetryPolicy::exponential(Duration::from_millis(100), Duration::ZERO).jitter(0.0);
        assert_eq!(p.delay(1), Duration::from_millis(100));
        assert_eq!(p.delay(2), Duration::from_millis(200));
        assert_eq!(p.delay(5), Duration::from_millis(1600));
        assert!(p.delay(200) > Duration::from_secs(1_000_000));
        assert_eq!(RetryPolicy::immediate().delay(7), Duration::ZERO);
    }

    #[test]
    fn retry_forever_never_overflows() {
        let p = RetryPolicy::exponential(Duration::from_secs(1), Duration::from_secs(60));
        for attempt in [1_024, 1_025, 100_000, u32::MAX] {
            assert!(p.delay(attempt) <= Duration::from_secs(60));
        }
        let uncapped = RetryPolicy::exponential(Duration::from_secs(1), Duration::ZERO);
        assert!(uncapped.delay(u32::MAX) > Duration::from_secs(1_000_000));
    }

    #[test]
    fn nan_jitter_is_no_jitter() {
        let p = RetryPolicy::default().jitter(f64::NAN);
        assert_eq!(p.jitter_fraction(), 0.0);
        assert_eq!(RetryPolicy::default().jitter(7.0).jitter_fraction(), 1.0);
    }

    #[test]
    fn jitter_stays_within_bounds() {
        let p =
            RetryPolicy::exponential(Duration::from_secs(1), Duration::from_secs(8)).jitter(0.5);
        for attempt in 1..10 {
            let full = Duration::from_secs(1 << (attempt - 1).min(3));
            for _ in 0..100 {
                let d = p.delay(attempt);
                assert!(d <= full && d >= full / 2, "{d:?} for attempt {attempt}");
            }
        }
    }
}
