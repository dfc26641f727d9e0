//! Leases and fencing: attempts at claim, tokens, expiry, reclaim, heartbeats, and stale
//! settlements.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use queue_core::{JobState, RetryPolicy, LEASE_EXPIRED};

use crate::support::{
    assert_completed, assert_lease_lost, assert_near_now, claim, claim_when_due, enqueue, get, job,
    lease_of, td, wait_until, ROUNDING, WAIT,
};
use crate::{Factory, Setup};

/// A short lease for checks that wait for one to run out.
const SHORT_LEASE: Duration = Duration::from_millis(150);

/// A claim counts an attempt (the first delivery has attempts 1), marks the job running
/// and hands out a lease of the lease timeout with a token.
pub async fn claim_counts_attempt_and_grants_lease(f: &dyn Factory) {
    let setup = Setup::default();
    let q = f.make(setup).await;
    let id = enqueue(&*q, job("l")).await;
    let j = claim(&*q, &[]).await;
    assert_eq!(j.id, id);
    assert_eq!(
        j.attempts, 1,
        "attempts count claims: the first delivery has 1"
    );
    assert_eq!(j.state, JobState::Running);
    let lease = lease_of(&j);
    assert_eq!(lease.id, id, "the lease names the claimed job");
    assert_near_now(
        lease.expires_at - td(setup.lease_timeout),
        "lease expires_at minus the lease timeout",
    );

    let stored = get(&*q, id).await;
    assert_eq!(stored.state, JobState::Running);
    assert_eq!(stored.attempts, 1);
    let stats = q.stats().await.expect("stats failed");
    assert_eq!((stats.pending, stats.running), (0, 1));
}

/// Every claim gets a new token, also when the same job is claimed again.
pub async fn fresh_token_per_claim(f: &dyn Factory) {
    let q = f
        .make(Setup::default().retry(RetryPolicy::immediate()))
        .await;
    let id = enqueue(&*q, job("t").max_attempts(5)).await;
    enqueue(&*q, job("t").priority(-1)).await;
    let mut tokens = HashSet::new();
    for attempt in 1..=3 {
        let j = claim(&*q, &["t"]).await;
        assert_eq!((j.id, j.attempts), (id, attempt));
        let lease = lease_of(&j);
        assert!(
            tokens.insert(lease.token),
            "claim {attempt} reused token {:?}",
            lease.token
        );
        q.nack(&lease, "again").await.expect("nack failed");
    }
    // Snoozing and claiming again is a new claim too.
    let j = claim(&*q, &["t"]).await;
    q.snooze(&lease_of(&j), Duration::ZERO)
        .await
        .expect("snooze failed");
    let j = claim(&*q, &["t"]).await;
    assert!(
        tokens.insert(lease_of(&j).token),
        "snooze + claim reused a token"
    );
    let other = claim(&*q, &["t"]).await;
    assert!(
        tokens.insert(lease_of(&other).token),
        "two jobs got the same token"
    );
}

/// A job whose lease ran out becomes claimable again on its own (no `reclaim` call), with
/// a new token and one more attempt.
pub async fn expired_lease_is_reclaimed_automatically(f: &dyn Factory) {
    let q = f.make(Setup::default().lease(SHORT_LEASE)).await;
    let id = enqueue(&*q, job("l")).await;
    let started = Instant::now();
    let first = claim(&*q, &[]).await;
    let again = q.dequeue(&[]).await.expect("dequeue failed");
    if started.elapsed() < SHORT_LEASE {
        assert!(
            again.is_none(),
            "a job was claimed twice while its lease was held"
        );
    }
    let second = match again {
        Some(j) => j,
        None => claim_when_due(&*q, &[], id, "the expired lease to be reclaimed").await,
    };
    assert_eq!(second.id, id);
    assert_eq!(second.attempts, 2, "the expired claim used an attempt");
    assert_ne!(
        lease_of(&second).token,
        lease_of(&first).token,
        "a reclaimed job needs a new token"
    );
}

/// A job whose lease ran out with no attempts left moves to `failed` with "lease expired"
/// on its own: seen through `stats` and `get_job`, without claiming.
pub async fn expired_lease_without_attempts_fails(f: &dyn Factory) {
    let q = f.make(Setup::default().lease(SHORT_LEASE)).await;
    let id = enqueue(&*q, job("l").max_attempts(1)).await;
    claim(&*q, &[]).await;
    wait_until("the expired job to be counted as failed", WAIT, || async {
        q.stats().await.expect("stats failed").failed == 1
    })
    .await;
    let j = get(&*q, id).await;
    assert_eq!(j.state, JobState::Failed);
    assert_eq!(j.attempts, 1);
    assert_eq!(j.last_error.as_deref(), Some(LEASE_EXPIRED));
    let stats = q.stats().await.expect("stats failed");
    assert_eq!((stats.pending, stats.running, stats.failed), (0, 0, 1));
    assert!(q.dequeue(&[]).await.expect("dequeue").is_none());
}

/// `reclaim()` leaves live leases alone, and once leases have expired it returns their
/// jobs to the queue (or fails them) before it returns, reporting how many.
pub async fn reclaim_returns_count(f: &dyn Factory) {
    let lease = Duration::from_millis(300);
    let q = f.make(Setup::default().lease(lease)).await;
    let a = enqueue(&*q, job("r").priority(3)).await;
    let b = enqueue(&*q, job("r").priority(2).max_attempts(1)).await;
    let c = enqueue(&*q, job("r").priority(1)).await;
    let started = Instant::now();
    assert_eq!(claim(&*q, &[]).await.id, a);
    assert_eq!(claim(&*q, &[]).await.id, b);

    // Call only `reclaim` until the leases have surely run out. The backend may reclaim
    // some on its own meanwhile, so the total is an upper bound, but no call may take back
    // a live lease.
    let mut total = 0;
    loop {
        let n = q.reclaim().await.expect("reclaim failed");
        if started.elapsed() < lease {
            assert_eq!(n, 0, "reclaim took back leases that had not expired");
        }
        total += n;
        if started.elapsed() > lease + Duration::from_millis(100) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(
        total <= 2,
        "reclaim reported {total} jobs; only 2 leases existed"
    );
    // Whoever reclaimed them, nothing expired is left running now.
    assert_eq!(get(&*q, a).await.state, JobState::Pending);
    let b_job = get(&*q, b).await;
    assert_eq!(b_job.state, JobState::Failed);
    assert_eq!(b_job.last_error.as_deref(), Some(LEASE_EXPIRED));
    assert_eq!(get(&*q, c).await.state, JobState::Pending);
    let stats = q.stats().await.expect("stats failed");
    assert_eq!((stats.pending, stats.running, stats.failed), (2, 0, 1));
    assert_eq!(
        q.reclaim().await.expect("reclaim failed"),
        0,
        "nothing left to reclaim"
    );
}

/// `set_lease_timeout` changes the lease of later claims (and `lease_timeout` reports
/// it); earlier claims keep theirs.
pub async fn set_lease_timeout_applies_to_later_claims(f: &dyn Factory) {
    let setup = Setup::default();
    let q = f.make(setup).await;
    assert_eq!(q.lease_timeout(), setup.lease_timeout);
    let a = enqueue(&*q, job("l").priority(1)).await;
    let b = enqueue(&*q, job("l")).await;
    let first = claim(&*q, &[]).await;
    assert_eq!(first.id, a);

    q.set_lease_timeout(SHORT_LEASE);
    assert_eq!(q.lease_timeout(), SHORT_LEASE);
    let second = claim(&*q, &[]).await;
    assert_eq!(second.id, b);
    // Compared with each other, so the backend's clock need not match ours.
    let shorter = lease_of(&first).expires_at - lease_of(&second).expires_at;
    let most = td(setup.lease_timeout - SHORT_LEASE) + ROUNDING;
    assert!(
        shorter > time::Duration::seconds(20) && shorter <= most,
        "the later claim's lease should end about {:?} earlier, got {shorter}",
        setup.lease_timeout - SHORT_LEASE
    );
    // The short lease really runs out; the long one does not.
    let again = claim_when_due(&*q, &[], b, "the short lease to expire").await;
    assert_eq!(again.attempts, 2);
    assert_eq!(get(&*q, a).await.state, JobState::Running);
}

/// Claims `id` with a short lease, lets it expire, and claims it again with a long one.
/// Returns (stale, current).
async fn reclaimed(
    q: &dyn queue_core::Backend,
    id: queue_core::JobId,
) -> (queue_core::Lease, queue_core::Lease) {
    let stale = lease_of(&claim(q, &[]).await);
    // The new claim must not run out while the check uses it.
    q.set_lease_timeout(Duration::from_secs(30));
    let current = claim_when_due(q, &[], id, "the expired lease to be reclaimed").await;
    assert_eq!(current.attempts, 2);
    (stale, lease_of(&current))
}

/// An ack with the token of a reclaimed claim fails with `LeaseLost` and changes nothing;
/// the new claimant's ack works; acking twice is stale too.
pub async fn stale_ack_is_lease_lost(f: &dyn Factory) {
    let q = f.make(Setup::default().lease(SHORT_LEASE)).await;
    let id = enqueue(&*q, job("l")).await;
    let (stale, current) = reclaimed(&*q, id).await;

    assert_lease_lost(q.ack(&stale).await, id, "ack with a reclaimed lease");
    let j = get(&*q, id).await;
    assert_eq!(
        j.state,
        JobState::Running,
        "a stale ack must not complete the job"
    );
    assert_eq!(j.attempts, 2);

    q.ack(&current)
        .await
        .expect("the current claimant's ack failed");
    assert_completed(&*q, id).await;
    assert_lease_lost(q.ack(&current).await, id, "a second ack of the same lease");
    let stats = q.stats().await.expect("stats failed");
    assert_eq!((stats.pending, stats.running), (0, 0));
}

/// Nack, discard, snooze and heartbeat with the token of a reclaimed claim change nothing:
/// the first three fail with `LeaseLost`, the heartbeat reports the lease as lost.
pub async fn stale_settlements_are_lease_lost(f: &dyn Factory) {
    let q = f.make(Setup::default().lease(SHORT_LEASE)).await;
    let id = enqueue(&*q, job("l")).await;
    let (stale, current) = reclaimed(&*q, id).await;

    assert_lease_lost(
        q.nack(&stale, "stale nack").await,
        id,
        "nack with a reclaimed lease",
    );
    assert_lease_lost(
        q.discard(&stale, "stale discard").await,
        id,
        "discard with a reclaimed lease",
    );
    assert_lease_lost(
        q.snooze(&stale, Duration::ZERO).await,
        id,
        "snooze with a reclaimed lease",
    );
    let held = q
        .heartbeat(&[stale, current])
        .await
        .expect("heartbeat failed");
    assert_eq!(
        held,
        vec![queue_core::LeaseStatus::Lost, queue_core::LeaseStatus::Held],
        "heartbeat of [stale, current] leases"
    );

    let j = get(&*q, id).await;
    assert_eq!(
        j.state,
        JobState::Running,
        "stale calls must not move the job"
    );
    assert_eq!(j.attempts, 2);
    assert_eq!(j.last_error, None, "stale calls must not record an error");

    q.nack(&current, "real failure")
        .await
        .expect("the current claimant's nack failed");
    let j = get(&*q, id).await;
    assert_eq!(j.state, JobState::Pending);
    assert_eq!(j.last_error.as_deref(), Some("real failure"));
}

/// Heartbeats keep a lease alive past its timeout: the job is never claimable meanwhile.
pub async fn heartbeat_extends_lease(f: &dyn Factory) {
    let lease_timeout = Duration::from_millis(300);
    let every = Duration::from_millis(50);
    let q = f.make(Setup::default().lease(lease_timeout)).await;
    let id = enqueue(&*q, job("h")).await;
    // `sent` is when the last claim or heartbeat call began: the lease lasts at least
    // until `sent + lease_timeout`.
    let mut sent = Instant::now();
    let lease = lease_of(&claim(&*q, &[]).await);
    let start = Instant::now();
    while start.elapsed() < 3 * lease_timeout {
        tokio::time::sleep(every).await;
        if sent.elapsed() >= lease_timeout {
            // The machine stalled longer than the lease: it may rightly have expired.
            eprintln!("heartbeat_extends_lease: stalled past the lease; inconclusive");
            return;
        }
        let now = Instant::now();
        let held = q.heartbeat(&[lease]).await.expect("heartbeat failed");
        assert_eq!(
            held,
            vec![queue_core::LeaseStatus::Held],
            "a heartbeat within the lease must hold it"
        );
        sent = now;
        let other = q.dequeue(&[]).await.expect("dequeue failed");
        if sent.elapsed() < lease_timeout {
            assert!(
                other.is_none(),
                "the job was claimed again although its lease was extended: {other:?}"
            );
        }
    }
    q.ack(&lease).await.expect("ack after heartbeats failed");
    assert_completed(&*q, id).await;
}
