//! Inspection: `list_jobs` and `stats`.

use std::time::Duration;

use queue_core::{JobId, JobState, Stats, DEFAULT_LIST_LIMIT};

use crate::support::{claim, enqueue, job, lease_of, state};
use crate::{Factory, Setup};

/// The ids of `list_jobs(state, limit)`, checking each job's state.
async fn listed(q: &dyn queue_core::Backend, st: Option<JobState>, limit: usize) -> Vec<JobId> {
    let jobs = q.list_jobs(st, limit).await.expect("list_jobs failed");
    if let Some(st) = st {
        for j in &jobs {
            assert_eq!(j.state, st, "list_jobs({st}) returned a {} job", j.state);
        }
    }
    jobs.into_iter().map(|j| j.id).collect()
}

/// `list_jobs` filters by state (or not, with `None`), lists newest first, and respects
/// the limit.
pub async fn list_jobs_per_state_newest_first(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    let mut ids = Vec::new();
    for _ in 0..8 {
        ids.push(enqueue(&*q, job("b")).await);
    }
    // Claims and failures happen in creation order, so "newest" means the same whether a
    // backend sorts by creation or by the last change.
    for _ in 0..2 {
        let j = claim(&*q, &[]).await;
        q.discard(&lease_of(&j), "bad")
            .await
            .expect("discard failed");
    }
    claim(&*q, &[]).await;
    claim(&*q, &[]).await;
    assert_eq!(
        q.cancel(ids[4]).await.expect("cancel failed"),
        queue_core::CancelOutcome::Cancelled
    );
    let rev = |r: std::ops::Range<usize>| ids[r].iter().rev().copied().collect::<Vec<_>>();

    assert_eq!(listed(&*q, Some(JobState::Failed), 0).await, rev(0..2));
    assert_eq!(listed(&*q, Some(JobState::Running), 0).await, rev(2..4));
    assert_eq!(listed(&*q, Some(JobState::Cancelled), 0).await, rev(4..5));
    assert_eq!(listed(&*q, Some(JobState::Pending), 0).await, rev(5..8));
    assert_eq!(listed(&*q, Some(JobState::Completed), 0).await, vec![]);
    assert_eq!(
        listed(&*q, None, 0).await,
        rev(0..8),
        "all states, newest first"
    );
    assert_eq!(listed(&*q, Some(JobState::Pending), 2).await, rev(6..8));
    assert_eq!(listed(&*q, None, 3).await, rev(5..8));
}

/// A limit of 0 lists up to 100 jobs (the newest); other limits are exact.
pub async fn list_jobs_limit(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    let total = DEFAULT_LIST_LIMIT + 5;
    let mut ids = Vec::new();
    for _ in 0..total {
        ids.push(enqueue(&*q, job("b")).await);
    }
    ids.reverse();
    assert_eq!(
        listed(&*q, Some(JobState::Pending), 0).await,
        ids[..DEFAULT_LIST_LIMIT],
        "limit 0 lists the newest {DEFAULT_LIST_LIMIT}"
    );
    assert_eq!(listed(&*q, None, 0).await, ids[..DEFAULT_LIST_LIMIT]);
    assert_eq!(listed(&*q, Some(JobState::Pending), total + 10).await, ids);
    assert_eq!(listed(&*q, None, 1).await, ids[..1]);
}

/// `stats` counts every state, zeros included, and agrees with `list_jobs`.
pub async fn stats_counts_every_state(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    assert_eq!(
        q.stats().await.expect("stats failed"),
        Stats::default(),
        "an empty queue counts zero everywhere"
    );

    let done = enqueue(&*q, job("s").priority(3)).await;
    enqueue(&*q, job("s").priority(2)).await; // failed
    enqueue(&*q, job("s").priority(1)).await; // running
    enqueue(&*q, job("s")).await; // pending
    enqueue(&*q, job("s").delay(Duration::from_secs(3600))).await; // pending, delayed
    let cancelled = enqueue(&*q, job("s")).await;
    assert_eq!(
        q.cancel(cancelled).await.expect("cancel failed"),
        queue_core::CancelOutcome::Cancelled
    );

    let j = claim(&*q, &[]).await;
    q.ack(&lease_of(&j)).await.expect("ack failed");
    let j = claim(&*q, &[]).await;
    q.discard(&lease_of(&j), "no")
        .await
        .expect("discard failed");
    claim(&*q, &[]).await;

    let stats = q.stats().await.expect("stats failed");
    // Completed jobs are counted only while retained; count whatever get_job still sees.
    let completed = u64::from(state(&*q, done).await == Some(JobState::Completed));
    assert_eq!(
        stats,
        Stats {
            pending: 2,
            running: 1,
            completed,
            failed: 1,
            cancelled: 1,
            paused: Vec::new(),
            limits: Vec::new(),
        }
    );
    for st in JobState::ALL {
        let n = listed(&*q, Some(st), 0).await.len() as u64;
        assert_eq!(n, stats.get(st), "stats and list_jobs disagree on {st}");
    }
}
