//! Which job a claim hands out: eligibility, ordering and kind filters.

use std::time::{Duration, Instant};

use queue_core::{JobId, JobState};
use time::OffsetDateTime;

use crate::support::{claim, claim_when_due, enqueue, get, job, td, ROUNDING};
use crate::{Factory, Setup};

/// Claims hand out the highest priority first, then the earliest `scheduled_at`, then the
/// lowest id – not the enqueue order.
pub async fn priority_then_schedule_then_id(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    let now = OffsetDateTime::now_utc();
    let early = now - time::Duration::seconds(10);
    let mid = now - time::Duration::seconds(5);
    // Ids are made up front so the lower one is enqueued last: enqueue order and id order
    // disagree, and only the id may break the tie.
    let low_id = JobId::new();
    let high_id = JobId::new();

    let a = enqueue(&*q, job("x").priority(0)).await;
    let b = enqueue(&*q, job("x").priority(5)).await;
    let c = enqueue(&*q, job("x").priority(5).run_at(early)).await;
    let d = enqueue(&*q, job("x").priority(0).run_at(early)).await;
    let g = enqueue(&*q, job("x").priority(-1).run_at(early)).await;
    let hi = enqueue(&*q, job("x").priority(1).run_at(mid).id(high_id)).await;
    let lo = enqueue(&*q, job("x").priority(1).run_at(mid).id(low_id)).await;

    let expected = [c, b, lo, hi, d, a, g];
    let mut got = Vec::new();
    while let Some(j) = q.dequeue(&[]).await.expect("dequeue failed") {
        got.push(j.id);
        assert!(
            got.len() <= expected.len(),
            "more jobs claimed than enqueued"
        );
    }
    let name = |id: &JobId| match *id {
        x if x == a => "a(p0,now)",
        x if x == b => "b(p5,now)",
        x if x == c => "c(p5,early)",
        x if x == d => "d(p0,early)",
        x if x == g => "g(p-1,early)",
        x if x == hi => "hi(p1,mid,higher id)",
        x if x == lo => "lo(p1,mid,lower id)",
        _ => "unknown",
    };
    assert_eq!(
        got.iter().map(name).collect::<Vec<_>>(),
        expected.iter().map(name).collect::<Vec<_>>(),
        "claim order must be priority desc, scheduled_at asc, id asc"
    );
}

/// With nothing eligible a claim is `Ok(None)` / an empty batch, not an error: an empty
/// queue, a queue of delayed jobs, a queue whose only job is running.
pub async fn nothing_eligible_is_none(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    assert!(q
        .dequeue(&[])
        .await
        .expect("dequeue on empty queue")
        .is_none());
    assert!(q
        .dequeue_batch(&[], 10)
        .await
        .expect("dequeue_batch on empty queue")
        .is_empty());

    let delayed = enqueue(&*q, job("x").delay(Duration::from_secs(3600))).await;
    assert!(
        q.dequeue(&[]).await.expect("dequeue").is_none(),
        "a job due in an hour must not be claimed"
    );
    enqueue(&*q, job("x")).await;
    claim(&*q, &[]).await;
    assert!(
        q.dequeue(&[]).await.expect("dequeue").is_none(),
        "a running job must not be claimed again while its lease is held"
    );
    assert_eq!(get(&*q, delayed).await.state, JobState::Pending);
}

/// A delayed job is not claimable before it is due (and does not hide due jobs behind
/// it), and becomes claimable once due without any other call.
pub async fn delayed_job_waits_until_due(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    let delay = Duration::from_secs(1);
    let started = Instant::now();
    // The delayed job has the higher priority: it must still not be handed out early, nor
    // block the due job below it.
    let delayed = enqueue(&*q, job("d").priority(10).delay(delay)).await;
    let due = enqueue(&*q, job("d")).await;

    let stored = get(&*q, delayed).await;
    assert_eq!(stored.state, JobState::Pending);
    let wait = stored.scheduled_at - stored.created_at;
    assert!(
        wait >= td(delay) - ROUNDING && wait < td(delay) + time::Duration::seconds(1),
        "scheduled_at must be created_at + delay, got {wait}"
    );

    let first = q.dequeue(&["d"]).await.expect("dequeue failed");
    let second = q.dequeue(&["d"]).await.expect("dequeue failed");
    // Only meaningful while the delay has surely not passed; on a stalled machine the
    // delayed job may legitimately be due already.
    if started.elapsed() < delay {
        assert_eq!(
            first.as_ref().map(|j| j.id),
            Some(due),
            "the due job must be claimable while a higher-priority job waits for its time"
        );
        assert!(
            second.is_none(),
            "the delayed job was claimed before it was due: {second:?}"
        );
    }
    let claimed: Vec<JobId> = first.iter().chain(second.iter()).map(|j| j.id).collect();
    if !claimed.contains(&delayed) {
        let j = claim_when_due(&*q, &["d"], delayed, "the delayed job to become due").await;
        assert_eq!(j.attempts, 1);
    }
}

/// A kind filter claims only jobs of those kinds.
pub async fn kind_filter_claims_only_listed_kinds(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    let a = enqueue(&*q, job("a")).await;
    let b = enqueue(&*q, job("b")).await;
    // Best job overall, but of a kind nobody asks for.
    let c = enqueue(&*q, job("c").priority(9)).await;

    let mut got = vec![
        claim(&*q, &["a", "b"]).await.id,
        claim(&*q, &["a", "b"]).await.id,
    ];
    got.sort();
    let mut want = vec![a, b];
    want.sort();
    assert_eq!(got, want, "a filter of [a, b] must claim exactly a and b");
    assert!(
        q.dequeue(&["a", "b"]).await.expect("dequeue").is_none(),
        "only the job of kind c is left"
    );
    assert!(q.dequeue(&["nope"]).await.expect("dequeue").is_none());
    let c_job = get(&*q, c).await;
    assert_eq!(c_job.state, JobState::Pending);
    assert_eq!(c_job.attempts, 0, "the kind-c job was never claimed");
}

/// With several kinds in the filter, the best job across all of them comes first (not
/// the first kind's jobs first).
pub async fn kind_filter_picks_best_across_kinds(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    let early = OffsetDateTime::now_utc() - time::Duration::seconds(10);
    let a_low = enqueue(&*q, job("a").priority(0)).await;
    let a_mid = enqueue(&*q, job("a").priority(1)).await;
    let b_high = enqueue(&*q, job("b").priority(3)).await;
    let b_mid_early = enqueue(&*q, job("b").priority(1).run_at(early)).await;
    enqueue(&*q, job("c").priority(9)).await;

    let kinds = ["a", "empty", "b"];
    let mut got = Vec::new();
    while let Some(j) = q.dequeue(&kinds).await.expect("dequeue failed") {
        got.push(j.id);
        assert!(got.len() <= 4, "claimed a job of an unlisted kind");
    }
    assert_eq!(
        got,
        vec![b_high, b_mid_early, a_mid, a_low],
        "order across kinds must be priority desc, scheduled_at asc, id asc"
    );
}

/// An empty filter claims any kind, still in priority order.
pub async fn empty_kind_filter_claims_any_kind(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    let x = enqueue(&*q, job("x").priority(0)).await;
    let y = enqueue(&*q, job("y").priority(2)).await;
    let z = enqueue(&*q, job("z").priority(1)).await;
    let got = vec![
        claim(&*q, &[]).await.id,
        claim(&*q, &[]).await.id,
        claim(&*q, &[]).await.id,
    ];
    assert_eq!(got, vec![y, z, x]);
    assert!(q.dequeue(&[]).await.expect("dequeue").is_none());
}
