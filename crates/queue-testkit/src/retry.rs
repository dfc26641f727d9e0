//! Settling a claim without success: nack (backoff or dead-letter), discard, snooze.

use std::time::{Duration, Instant};

use queue_core::{JobState, RetryPolicy};

use crate::support::{claim, claim_when_due, enqueue, get, job, lease_of, td, ROUNDING};
use crate::{Factory, Setup};

/// Slack for the time between two calls of the check when bounding a backend timestamp
/// from above.
const SLACK: time::Duration = time::Duration::milliseconds(50);

/// A nack with attempts left records the error and re-schedules the job by the backoff
/// (`base * 2^(attempts-1)`): not claimable at once, claimable once due.
pub async fn nack_reschedules_with_backoff(f: &dyn Factory) {
    let base = Duration::from_millis(300);
    let policy = RetryPolicy::exponential(base, Duration::from_secs(10)).jitter(0.0);
    let setup = Setup::default().retry(policy);
    let q = f.make(setup).await;
    let id = enqueue(&*q, job("n")).await;

    for (attempt, backoff) in [(1, base), (2, base * 2)] {
        let claimed_at = Instant::now();
        let j = if attempt == 1 {
            claim(&*q, &[]).await
        } else {
            claim_when_due(&*q, &[], id, "the nacked job to become due").await
        };
        assert_eq!((j.id, j.attempts), (id, attempt));
        let lease = lease_of(&j);
        // The claim's time by the backend's clock, from the lease it granted.
        let claim_time = lease.expires_at - td(setup.lease_timeout);
        let nacked_at = Instant::now();
        let error = format!("boom {attempt}");
        q.nack(&lease, &error).await.expect("nack failed");
        let since_claim = td(claimed_at.elapsed());

        let stored = get(&*q, id).await;
        assert_eq!(stored.state, JobState::Pending, "nack with attempts left");
        assert_eq!(stored.attempts, attempt);
        assert_eq!(stored.last_error.as_deref(), Some(error.as_str()));
        let wait = stored.scheduled_at - claim_time;
        assert!(
            wait >= td(backoff) - ROUNDING && wait <= td(backoff) + since_claim + SLACK,
            "after attempt {attempt} the job should wait {backoff:?} from the nack, \
             but scheduled_at is {wait} after the claim"
        );
        let early = q.dequeue(&[]).await.expect("dequeue failed");
        if nacked_at.elapsed() < backoff {
            assert!(
                early.is_none(),
                "a nacked job was claimable before its backoff passed"
            );
        }
        assert!(early.is_none() || early.as_ref().map(|j| j.id) == Some(id));
        if let Some(j) = early {
            // Stalled past the backoff: put it back and go on.
            q.snooze(&lease_of(&j), Duration::ZERO)
                .await
                .expect("snooze failed");
        }
    }
}

/// A nack that uses the last attempt dead-letters the job with the error.
pub async fn nack_without_attempts_left_fails(f: &dyn Factory) {
    let q = f
        .make(Setup::default().retry(RetryPolicy::immediate()))
        .await;
    let id = enqueue(&*q, job("n").max_attempts(2)).await;
    let j = claim(&*q, &[]).await;
    q.nack(&lease_of(&j), "first").await.expect("nack failed");
    assert_eq!(get(&*q, id).await.state, JobState::Pending);
    let j = claim(&*q, &[]).await;
    assert_eq!(j.attempts, 2);
    q.nack(&lease_of(&j), "final").await.expect("nack failed");

    let stored = get(&*q, id).await;
    assert_eq!(stored.state, JobState::Failed, "attempts are used up");
    assert_eq!(stored.attempts, 2);
    assert_eq!(stored.last_error.as_deref(), Some("final"));
    assert!(q.dequeue(&[]).await.expect("dequeue").is_none());
    let stats = q.stats().await.expect("stats failed");
    assert_eq!((stats.pending, stats.running, stats.failed), (0, 0, 1));
}

/// A discard fails the job at once, whatever attempts remain.
pub async fn discard_fails_at_once(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    let id = enqueue(&*q, job("d").max_attempts(5)).await;
    let j = claim(&*q, &[]).await;
    q.discard(&lease_of(&j), "bad input")
        .await
        .expect("discard failed");
    let stored = get(&*q, id).await;
    assert_eq!(stored.state, JobState::Failed);
    assert_eq!(stored.attempts, 1);
    let error = stored.last_error.unwrap_or_default();
    assert!(
        error.contains("bad input"),
        "last_error should hold the discard reason, got {error:?}"
    );
    assert!(q.dequeue(&[]).await.expect("dequeue").is_none());
    let stats = q.stats().await.expect("stats failed");
    assert_eq!((stats.pending, stats.running, stats.failed), (0, 0, 1));
}

/// A snooze puts the job back for later without using an attempt (even the last one) and
/// without recording an error.
pub async fn snooze_keeps_attempts(f: &dyn Factory) {
    let setup = Setup::default();
    let q = f.make(setup).await;
    let delay = Duration::from_millis(300);
    // One attempt only: a snooze that used it would leave nothing to run.
    let id = enqueue(&*q, job("s").max_attempts(1)).await;
    let j = claim(&*q, &[]).await;
    assert_eq!(j.attempts, 1);
    let lease = lease_of(&j);
    let claim_time = lease.expires_at - td(setup.lease_timeout);
    let snoozed_at = Instant::now();
    q.snooze(&lease, delay).await.expect("snooze failed");

    let stored = get(&*q, id).await;
    assert_eq!(stored.state, JobState::Pending);
    assert_eq!(stored.last_error, None, "a snooze is not an error");
    assert!(
        stored.scheduled_at - claim_time >= td(delay) - ROUNDING,
        "a snoozed job is due after the delay, got scheduled_at {} for a claim at {claim_time}",
        stored.scheduled_at
    );
    let early = q.dequeue(&[]).await.expect("dequeue failed");
    if snoozed_at.elapsed() < delay {
        assert!(
            early.is_none(),
            "a snoozed job was claimable before its delay"
        );
    }
    let j = match early {
        Some(j) => j,
        None => claim_when_due(&*q, &[], id, "the snoozed job to become due").await,
    };
    assert_eq!(j.attempts, 1, "a snooze must not use an attempt");

    // A zero snooze is due at once, and still free.
    q.snooze(&lease_of(&j), Duration::ZERO)
        .await
        .expect("snooze failed");
    let j = claim(&*q, &[]).await;
    assert_eq!(j.attempts, 1);
    q.ack(&lease_of(&j))
        .await
        .expect("ack after snoozes failed");
}

/// "Retry forever" works: a job with `max_attempts(u32::MAX)` keeps being retried past
/// attempt 1,024, where `2^(attempts-1)` no longer fits a float. Every nack succeeds and
/// records its error; the job stays pending and claimable.
pub async fn retry_forever_survives_many_attempts(f: &dyn Factory) {
    let q = f
        .make(Setup::default().retry(RetryPolicy::immediate()))
        .await;
    let id = enqueue(&*q, job("forever").max_attempts(u32::MAX)).await;
    let stored = get(&*q, id).await.max_attempts;
    assert!(
        stored >= i32::MAX as u32,
        "max_attempts(u32::MAX) must mean retry forever, stored as {stored}"
    );
    const ATTEMPTS: u32 = 1_100;
    for attempt in 1..=ATTEMPTS {
        let j = claim_when_due(&*q, &["forever"], id, "the retried job to be due again").await;
        assert_eq!(j.attempts, attempt);
        q.nack(&lease_of(&j), &format!("boom {attempt}"))
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "nack of attempt {attempt} failed: {}",
                    queue_core::ErrorChain(&e)
                )
            });
    }
    let j = get(&*q, id).await;
    assert_eq!(
        j.state,
        JobState::Pending,
        "a retry-forever job stays pending"
    );
    assert_eq!(j.attempts, ATTEMPTS);
    assert_eq!(
        j.last_error.as_deref(),
        Some(format!("boom {ATTEMPTS}").as_str())
    );
}

/// A snooze or delay as long as the limit allows stays a readable, listed, counted pending
/// job that is not claimable; `snooze(Duration::MAX)` is capped at [`queue_core::MAX_DELAY`].
pub async fn far_future_jobs_stay_readable(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    let later = enqueue(&*q, job("far").delay(queue_core::MAX_DELAY)).await;
    let last_day = time::macros::datetime!(9999-12-31 23:59:59 UTC);
    let at_end = enqueue(&*q, job("far").run_at(last_day)).await;
    let snoozed = enqueue(&*q, job("far")).await;
    let j = claim(&*q, &["far"]).await;
    assert_eq!(j.id, snoozed, "the only due job is claimed");
    q.snooze(&lease_of(&j), Duration::MAX)
        .await
        .expect("snooze(Duration::MAX) must be capped, not fail");

    let in_a_century = time::OffsetDateTime::now_utc() + time::Duration::days(36_500);
    for id in [later, at_end, snoozed] {
        let j = get(&*q, id).await;
        assert_eq!(j.state, JobState::Pending, "{id} reads back as pending");
        assert!(
            j.scheduled_at > in_a_century,
            "{id} is due far away, not {}",
            j.scheduled_at
        );
    }
    let listed = q
        .list_jobs(Some(JobState::Pending), 10)
        .await
        .expect("list_jobs failed");
    assert_eq!(
        listed.len(),
        3,
        "every far-future job is listed: {listed:?}"
    );
    assert_eq!(q.stats().await.expect("stats failed").pending, 3);
    assert!(q.dequeue(&["far"]).await.expect("dequeue failed").is_none());
}
