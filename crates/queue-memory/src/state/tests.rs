//! The rules of [`State`] at exact instants: no clock, no sleeping.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use queue_core::JobFilter;
use serde_json::json;
use time::OffsetDateTime;

const LEASE: Duration = Duration::from_secs(30);

fn limits() -> Limits {
    Limits {
        retry: RetryPolicy::immediate(),
        capacity: None,
        keep_completed: 100,
        keep_failed: 100,
    }
}

fn state() -> State {
    State::new(limits())
}

fn t0() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap()
}

fn secs(s: i64) -> OffsetDateTime {
    t0() + time::Duration::seconds(s)
}

fn candidate(job: NewJob) -> Candidate {
    let p = job.prepare().unwrap();
    Candidate {
        id: p.id,
        max_attempts: p.max_attempts,
        job,
    }
}

fn add_batch(st: &mut State, jobs: Vec<NewJob>, now: OffsetDateTime) -> Vec<JobId> {
    match st
        .enqueue(jobs.into_iter().map(candidate).collect(), now)
        .unwrap()
    {
        Enqueued::Stored(ids) => ids,
        Enqueued::Full { .. } => panic!("unexpectedly full"),
    }
}

fn add(st: &mut State, job: NewJob, now: OffsetDateTime) -> JobId {
    add_batch(st, vec![job], now)[0]
}

fn job(kind: &str) -> NewJob {
    NewJob::new(kind, json!(null))
}

/// Maintenance then one claim, as every call of the queue does.
fn claim(st: &mut State, kinds: &[&str], now: OffsetDateTime) -> Option<Job> {
    st.maintain(now);
    st.claim(kinds, 1, now, LEASE).pop()
}

fn lease(j: &Job) -> Lease {
    j.lease.unwrap()
}

fn state_of(st: &State, id: JobId) -> JobState {
    st.get(id).unwrap().state
}

#[test]
fn claims_by_priority_then_schedule_then_id() {
    let mut st = state();
    let now = t0();
    let low = add(&mut st, job("k"), now);
    let late = add(&mut st, job("k").priority(5).run_at(secs(-1)), now);
    let early_b = add(&mut st, job("k").priority(5).run_at(secs(-10)), now);
    let early_a = JobId::from_bytes([0; 16]);
    add(
        &mut st,
        job("k").priority(5).run_at(secs(-10)).id(early_a),
        now,
    );
    let order: Vec<JobId> = (0..4)
        .map(|_| claim(&mut st, &[], now).unwrap().id)
        .collect();
    assert_eq!(order, vec![early_a, early_b, late, low]);
    assert!(claim(&mut st, &[], now).is_none());
}

#[test]
fn a_claim_counts_an_attempt_and_leases() {
    let mut st = state();
    let id = add(&mut st, job("k"), t0());
    let j = claim(&mut st, &[], secs(1)).unwrap();
    assert_eq!((j.id, j.attempts, j.state), (id, 1, JobState::Running));
    let l = lease(&j);
    assert_eq!(l.expires_at, secs(31));
    assert_eq!(st.get(id).unwrap().lease, Some(l));
    assert_eq!(st.stats().running, 1);
    assert_eq!(st.next_due(secs(1)), Some(LEASE));
}

#[test]
fn a_filter_takes_the_best_across_its_kinds() {
    let mut st = state();
    let now = t0();
    let a = add(&mut st, job("a").priority(1), now);
    let b = add(&mut st, job("b").priority(2), now);
    let c = add(&mut st, job("c").priority(9), now);
    assert!(claim(&mut st, &["nope"], now).is_none(), "unknown kind");
    assert_eq!(claim(&mut st, &["a", "b"], now).unwrap().id, b);
    assert_eq!(claim(&mut st, &["b", "a", "nope"], now).unwrap().id, a);
    assert!(claim(&mut st, &["a", "b"], now).is_none());
    assert_eq!(claim(&mut st, &[], now).unwrap().id, c);
}

#[test]
fn batch_claims_come_in_order_and_stop_when_empty() {
    let mut st = state();
    let now = t0();
    let ids: Vec<JobId> = (0..5)
        .map(|p| add(&mut st, job(["x", "y"][p % 2]).priority(p as i32), now))
        .collect();
    let got: Vec<JobId> = st
        .claim(&[], 10, now, LEASE)
        .into_iter()
        .map(|j| j.id)
        .collect();
    assert_eq!(got, ids.iter().rev().copied().collect::<Vec<_>>());
    assert!(st.claim(&[], 0, now, LEASE).is_empty());
}

#[test]
fn delayed_jobs_are_promoted_when_due() {
    let mut st = state();
    let id = add(&mut st, job("k").delay(Duration::from_secs(10)), t0());
    assert_eq!(st.get(id).unwrap().scheduled_at, secs(10));
    assert!(claim(&mut st, &[], secs(9)).is_none());
    assert_eq!(st.next_due(secs(9)), Some(Duration::from_secs(1)));
    assert_eq!(claim(&mut st, &["k"], secs(10)).unwrap().id, id);
}

#[test]
fn an_expired_lease_makes_the_job_due_again() {
    let mut st = state();
    let id = add(&mut st, job("k"), t0());
    let first = claim(&mut st, &[], t0()).unwrap();
    assert_eq!(st.maintain(secs(29)), 0);
    assert_eq!(st.maintain(secs(30)), 1);
    let j = st.get(id).unwrap();
    assert_eq!(
        (j.state, j.attempts, j.lease, j.scheduled_at),
        (JobState::Pending, 1, None, secs(30))
    );
    assert!(st.take_events().ready);
    let second = claim(&mut st, &[], secs(31)).unwrap();
    assert_eq!(second.attempts, 2);
    assert_ne!(lease(&first).token, lease(&second).token);
    assert!(matches!(
        st.ack(&lease(&first), t0()),
        Err(QueueError::LeaseLost(x)) if x == id
    ));
    assert_eq!(
        state_of(&st, id),
        JobState::Running,
        "a stale ack changed the job"
    );
    st.ack(&lease(&second), t0()).unwrap();
    assert_eq!(state_of(&st, id), JobState::Completed);
}

#[test]
fn an_expired_lease_without_attempts_left_fails_the_job() {
    let mut st = state();
    let id = add(&mut st, job("k").max_attempts(1), t0());
    claim(&mut st, &[], t0()).unwrap();
    st.take_events();
    assert_eq!(st.maintain(secs(31)), 1);
    let j = st.get(id).unwrap();
    assert_eq!(j.state, JobState::Failed);
    assert_eq!(j.last_error.as_deref(), Some(LEASE_EXPIRED));
    assert!(st.take_events().freed);
    assert_eq!(st.next_due(secs(31)), None);
}

#[test]
fn a_heartbeat_moves_the_deadline() {
    let mut st = state();
    let id = add(&mut st, job("k"), t0());
    let j = claim(&mut st, &[], t0()).unwrap();
    assert!(st.heartbeat(&lease(&j), secs(20), LEASE).is_held());
    assert_eq!(st.get(id).unwrap().lease.unwrap().expires_at, secs(50));
    assert_eq!(st.maintain(secs(40)), 0, "the old deadline is gone");
    assert_eq!(st.maintain(secs(50)), 1);
    assert!(!st.heartbeat(&lease(&j), secs(51), LEASE).is_held());
}

#[test]
fn a_stale_token_changes_nothing() {
    let mut st = state();
    let id = add(&mut st, job("k"), t0());
    let j = claim(&mut st, &[], t0()).unwrap();
    let stale = Lease {
        token: ClaimToken(lease(&j).token.0.wrapping_add(1)),
        ..lease(&j)
    };
    let before = st.get(id).unwrap();
    assert!(matches!(
        st.ack(&stale, t0()),
        Err(QueueError::LeaseLost(_))
    ));
    assert!(matches!(
        st.nack(&stale, "x", t0()),
        Err(QueueError::LeaseLost(_))
    ));
    assert!(matches!(
        st.discard(&stale, "x", t0()),
        Err(QueueError::LeaseLost(_))
    ));
    assert!(matches!(
        st.snooze(&stale, LEASE, t0()),
        Err(QueueError::LeaseLost(_))
    ));
    assert!(!st.heartbeat(&stale, secs(5), LEASE).is_held());
    assert_eq!(st.get(id).unwrap(), before);
    st.ack(&lease(&j), t0()).unwrap();
    assert!(
        matches!(st.ack(&lease(&j), t0()), Err(QueueError::LeaseLost(_))),
        "a second ack"
    );
}

#[test]
fn nack_backs_off_then_dead_letters() {
    let mut st = State::new(Limits {
        retry: RetryPolicy::exponential(Duration::from_secs(1), Duration::ZERO).jitter(0.0),
        ..limits()
    });
    let id = add(&mut st, job("k").max_attempts(2), t0());
    let j = claim(&mut st, &[], t0()).unwrap();
    st.nack(&lease(&j), "boom", secs(1)).unwrap();
    let stored = st.get(id).unwrap();
    assert_eq!(
        (
            stored.state,
            stored.scheduled_at,
            stored.last_error.as_deref()
        ),
        (JobState::Pending, secs(2), Some("boom"))
    );
    assert!(claim(&mut st, &[], secs(1)).is_none(), "backing off");
    let j = claim(&mut st, &[], secs(2)).unwrap();
    assert_eq!(j.attempts, 2);
    st.nack(&lease(&j), "again", secs(3)).unwrap();
    let stored = st.get(id).unwrap();
    assert_eq!(stored.state, JobState::Failed);
    assert_eq!(stored.last_error.as_deref(), Some("again"));
    assert_eq!(stored.lease, None);
}

#[test]
fn discard_fails_at_once_and_snooze_keeps_the_attempt() {
    let mut st = state();
    let d = add(&mut st, job("d").max_attempts(5), t0());
    let j = claim(&mut st, &["d"], t0()).unwrap();
    st.discard(&lease(&j), "bad input", t0()).unwrap();
    let stored = st.get(d).unwrap();
    assert_eq!(stored.state, JobState::Failed);
    assert_eq!(stored.last_error.as_deref(), Some("bad input"));

    let s = add(&mut st, job("s").max_attempts(1), t0());
    let j = claim(&mut st, &["s"], t0()).unwrap();
    st.snooze(&lease(&j), Duration::from_secs(5), secs(1))
        .unwrap();
    let stored = st.get(s).unwrap();
    assert_eq!(
        (
            stored.state,
            stored.attempts,
            stored.scheduled_at,
            stored.last_error
        ),
        (JobState::Pending, 0, secs(6), None)
    );
    assert!(claim(&mut st, &[], secs(5)).is_none());
    assert_eq!(claim(&mut st, &[], secs(6)).unwrap().attempts, 1);
}

#[test]
fn cancel_takes_pending_jobs_and_marks_running_ones() {
    let mut st = state();
    let due = add(&mut st, job("k"), t0());
    let later = add(&mut st, job("k").delay(Duration::from_secs(60)), t0());
    let running = add(&mut st, job("r"), t0());
    claim(&mut st, &["r"], t0()).unwrap();
    assert_eq!(st.cancel(due, t0()), CancelOutcome::Cancelled);
    assert_eq!(st.cancel(later, t0()), CancelOutcome::Cancelled);
    assert!(!st.cancel(due, t0()).is_accepted(), "already cancelled");
    assert_eq!(st.cancel(running, t0()), CancelOutcome::Requested);
    assert_eq!(state_of(&st, running), JobState::Running);
    assert!(!st.cancel(JobId::new(), t0()).is_accepted());
    assert_eq!(state_of(&st, due), JobState::Cancelled);
    assert_eq!(st.next_due(t0()), Some(LEASE), "the delayed entry went too");
    assert!(
        claim(&mut st, &["k"], secs(61)).is_none(),
        "cancelled jobs never run"
    );
}

#[test]
fn replay_brings_back_only_failed_jobs() {
    let mut st = state();
    let id = add(&mut st, job("k").max_attempts(1), t0());
    let j = claim(&mut st, &[], t0()).unwrap();
    assert!(!st.replay(id, t0()), "running");
    st.nack(&lease(&j), "broken", t0()).unwrap();
    assert!(st.replay(id, secs(5)));
    assert!(!st.replay(id, secs(5)), "twice");
    let stored = st.get(id).unwrap();
    assert_eq!(
        (stored.state, stored.attempts, stored.scheduled_at),
        (JobState::Pending, 0, secs(5))
    );
    assert_eq!(
        stored.last_error.as_deref(),
        Some("broken"),
        "kept as history"
    );
    assert_eq!(st.stats().failed, 0);
    assert_eq!(claim(&mut st, &[], secs(5)).unwrap().attempts, 1);
    assert!(!st.replay(JobId::new(), t0()));
}

#[test]
fn unique_key_without_window_is_held_until_the_job_ends() {
    let mut st = state();
    let a = add(&mut st, job("u").unique("k"), t0());
    assert_eq!(add(&mut st, job("u").unique("k"), t0()), a);
    let j = claim(&mut st, &[], t0()).unwrap();
    assert_eq!(
        add(&mut st, job("u").unique("k"), t0()),
        a,
        "held while running"
    );
    st.discard(&lease(&j), "no", t0()).unwrap();
    let b = add(&mut st, job("u").unique("k"), t0());
    assert_ne!(b, a, "freed when failed");
    assert_eq!(st.cancel(b, t0()), CancelOutcome::Cancelled);
    assert!(st.replay(a, t0()));
    assert_eq!(
        add(&mut st, job("u").unique("k"), t0()),
        a,
        "a replayed job holds its free key again"
    );
    assert_eq!(st.stats().pending, 1);
}

#[test]
fn unique_window_outlives_the_job_then_lapses() {
    let mut st = state();
    let w = Duration::from_secs(10);
    let a = add(&mut st, job("u").unique_for("w", w), t0());
    let j = claim(&mut st, &[], t0()).unwrap();
    st.ack(&lease(&j), t0()).unwrap();
    assert_eq!(add(&mut st, job("u").unique_for("w", w), secs(9)), a);
    st.maintain(secs(10));
    assert_eq!(st.unique.len(), 0, "a lapsed window is forgotten");
    let b = add(&mut st, job("u").unique_for("w", w), secs(10));
    assert_ne!(b, a);
    assert_eq!(add(&mut st, job("u").unique_for("w", w), secs(19)), b);
}

#[test]
fn a_batch_dedups_keys_and_is_all_or_nothing() {
    let mut st = state();
    let ids = add_batch(
        &mut st,
        vec![
            job("u").unique("k"),
            job("u"),
            job("u").unique("k"),
            job("u").unique_for("k", Duration::from_secs(1)),
        ],
        t0(),
    );
    assert_eq!(ids[2], ids[0]);
    assert_eq!(ids[3], ids[0]);
    assert_ne!(ids[1], ids[0]);
    assert_eq!(st.stats().pending, 2);

    let dup = JobId::new();
    let bad = vec![job("x"), job("x").id(dup), job("x").id(dup)]
        .into_iter()
        .map(candidate)
        .collect();
    assert!(matches!(
        st.enqueue(bad, t0()),
        Err(QueueError::InvalidJob(_))
    ));
    let existing = vec![candidate(job("x")), candidate(job("x").id(ids[1]))];
    assert!(matches!(
        st.enqueue(existing, t0()),
        Err(QueueError::InvalidJob(_))
    ));
    assert_eq!(
        st.stats().pending,
        2,
        "nothing of a refused batch was stored"
    );
}

#[test]
fn enqueue_fills_the_job() {
    let mut st = state();
    let at = OffsetDateTime::from_unix_timestamp(1_900_000_000)
        .unwrap()
        .to_offset(time::UtcOffset::from_hms(2, 0, 0).unwrap());
    let id = add(
        &mut st,
        NewJob::new("k", json!({"a": 1})).priority(-3).run_at(at),
        t0(),
    );
    let j = st.get(id).unwrap();
    assert_eq!(j.kind, "k");
    assert_eq!(j.payload, json!({"a": 1}));
    assert_eq!((j.priority, j.attempts, j.max_attempts), (-3, 0, 3));
    assert_eq!((j.created_at, j.scheduled_at), (t0(), at));
    assert_eq!(j.scheduled_at.offset(), time::UtcOffset::UTC);
    assert_eq!(
        (j.state, j.last_error, j.lease),
        (JobState::Pending, None, None)
    );
}

#[test]
fn capacity_refuses_new_jobs_but_not_duplicates() {
    let mut st = State::new(Limits {
        capacity: Some(2),
        ..limits()
    });
    let a = add(&mut st, job("k").unique("a"), t0());
    add(&mut st, job("k"), t0());
    let full = st.enqueue(vec![candidate(job("k"))], t0()).unwrap();
    assert!(matches!(full, Enqueued::Full { retry_in: None, .. }));
    assert_eq!(
        add(&mut st, job("k").unique("a"), t0()),
        a,
        "a duplicate needs no room"
    );
    let j = claim(&mut st, &[], t0()).unwrap();
    match st.enqueue(vec![candidate(job("k"))], secs(10)).unwrap() {
        Enqueued::Full { retry_in, batch } => {
            assert_eq!(
                retry_in,
                Some(Duration::from_secs(20)),
                "the lease deadline"
            );
            assert_eq!(batch.len(), 1, "the batch comes back");
        }
        Enqueued::Stored(_) => panic!("over capacity"),
    }
    st.take_events();
    st.ack(&lease(&j), t0()).unwrap();
    assert!(st.take_events().freed);
    add(&mut st, job("k"), t0());
    assert_eq!(st.live(), 2);
}

#[test]
fn close_refuses_jobs_but_settles_claims() {
    let mut st = state();
    add(&mut st, job("k"), t0());
    add(&mut st, job("k"), t0());
    st.close();
    assert!(matches!(
        st.enqueue(vec![candidate(job("k"))], t0()),
        Err(QueueError::Closed)
    ));
    assert!(matches!(
        st.enqueue(Vec::new(), t0()),
        Err(QueueError::Closed)
    ));
    let j = claim(&mut st, &[], t0()).unwrap();
    st.nack(&lease(&j), "later", t0()).unwrap();
    let j = claim(&mut st, &[], t0()).unwrap();
    st.ack(&lease(&j), t0()).unwrap();
    assert_eq!(st.stats().pending, 1);
}

#[test]
fn retention_rings_evict_the_oldest() {
    let mut st = State::new(Limits {
        keep_completed: 2,
        keep_failed: 2,
        ..limits()
    });
    let mut failed = Vec::new();
    for _ in 0..3 {
        let id = add(&mut st, job("f").max_attempts(1), t0());
        let j = claim(&mut st, &[], t0()).unwrap();
        st.discard(&lease(&j), "no", t0()).unwrap();
        failed.push(id);
    }
    // Replaying the oldest and failing it again makes it the newest.
    assert!(st.replay(failed[1], t0()));
    let j = claim(&mut st, &[], t0()).unwrap();
    st.discard(&lease(&j), "no", t0()).unwrap();
    assert!(st.get(failed[0]).is_none(), "evicted");
    assert_eq!(state_of(&st, failed[1]), JobState::Failed);
    assert_eq!(state_of(&st, failed[2]), JobState::Failed);

    let done = add(&mut st, job("c"), t0());
    let j = claim(&mut st, &[], t0()).unwrap();
    st.ack(&lease(&j), t0()).unwrap();
    let c1 = add(&mut st, job("c"), t0());
    let c2 = add(&mut st, job("c"), t0());
    assert_eq!(st.cancel(c1, t0()), CancelOutcome::Cancelled);
    assert_eq!(st.cancel(c2, t0()), CancelOutcome::Cancelled);
    assert!(
        st.get(done).is_none(),
        "cancelled jobs share the completed ring"
    );
    let s = st.stats();
    assert_eq!((s.completed, s.cancelled, s.failed), (0, 2, 2));
    assert_eq!(st.jobs.len(), 4);
    assert_eq!(st.finished.len(), 2);
    assert_eq!(st.dead.len(), 2);
}

#[test]
fn keep_zero_forgets_at_once() {
    let mut st = State::new(Limits {
        keep_completed: 0,
        keep_failed: 0,
        ..limits()
    });
    let id = add(&mut st, job("k").unique("u"), t0());
    let j = claim(&mut st, &[], t0()).unwrap();
    st.ack(&lease(&j), t0()).unwrap();
    assert!(st.get(id).is_none());
    assert_eq!(st.stats(), Stats::default());
    assert_ne!(add(&mut st, job("k").unique("u"), t0()), id);
}

#[test]
fn lists_newest_first_by_state() {
    let mut st = state();
    let ids: Vec<JobId> = (0..5).map(|_| add(&mut st, job("k"), t0())).collect();
    let j = claim(&mut st, &[], t0()).unwrap();
    assert_eq!(j.id, ids[0]);
    let all: Vec<JobId> = st
        .list(&JobFilter::new(), 100)
        .into_iter()
        .map(|j| j.id)
        .collect();
    assert_eq!(all, ids.iter().rev().copied().collect::<Vec<_>>());
    let pending: Vec<JobId> = st
        .list(&JobFilter::new().state(JobState::Pending), 2)
        .into_iter()
        .map(|j| j.id)
        .collect();
    assert_eq!(pending, vec![ids[4], ids[3]]);
    let running = st.list(&JobFilter::new().state(JobState::Running), 10);
    assert_eq!(running.len(), 1);
    assert_eq!(running[0].id, ids[0]);
    assert!(st
        .list(&JobFilter::new().state(JobState::Failed), 10)
        .is_empty());
    let s = st.stats();
    assert_eq!((s.pending, s.running), (4, 1));
}

#[test]
fn state_indexes_stay_consistent_through_a_life() {
    let mut st = state();
    let now = t0();
    for i in 0..50 {
        add(
            &mut st,
            job(["a", "b", "c"][i % 3])
                .priority(i as i32 % 4)
                .max_attempts(2),
            now,
        );
    }
    let mut t = 0;
    while let Some(j) = claim(&mut st, &[], secs(t)) {
        t += 1;
        match j.attempts % 3 {
            0 => st.ack(&lease(&j), t0()).unwrap(),
            1 => st.nack(&lease(&j), "x", secs(t)).unwrap(),
            _ => {} // left to expire
        }
        if t > 500 {
            break;
        }
        st.maintain(secs(t + 31));
    }
    let s = st.stats();
    let total = s.pending + s.running + s.completed + s.failed + s.cancelled;
    assert_eq!(total as usize, st.jobs.len());
    assert_eq!(st.ready.len() + st.delayed.len(), s.pending as usize);
    assert_eq!(st.leases.len(), s.running as usize);
}

fn ids(jobs: Vec<Job>) -> Vec<JobId> {
    jobs.into_iter().map(|j| j.id).collect()
}

#[test]
fn list_filters_by_kind_and_pages_with_the_cursor() {
    let mut st = state();
    let all: Vec<JobId> = (0..7)
        .map(|i| add(&mut st, job(["a", "b"][i % 2]), t0()))
        .collect();
    let a: Vec<JobId> = all.iter().rev().step_by(2).copied().collect();
    assert_eq!(ids(st.list(&JobFilter::new().kind("a"), 100)), a);
    assert!(st.list(&JobFilter::new().kind("never"), 100).is_empty());
    let first = ids(st.list(&JobFilter::new().kind("a"), 3));
    assert_eq!(first, a[..3]);
    let rest = ids(st.list(&JobFilter::new().kind("a").before(first[2]), 3));
    assert_eq!(rest, a[3..]);
    claim(&mut st, &["b"], t0()).unwrap();
    let running = JobFilter::new().kind("b").state(JobState::Running);
    assert_eq!(ids(st.list(&running, 100)), vec![all[1]]);
}

#[test]
fn finished_at_is_set_at_the_end_and_cleared_by_replay() {
    let mut st = state();
    let id = add(&mut st, job("k").max_attempts(1), t0());
    assert_eq!(st.get(id).unwrap().finished_at, None);
    let j = claim(&mut st, &[], t0()).unwrap();
    assert_eq!(st.get(id).unwrap().finished_at, None, "running");
    st.nack(&lease(&j), "x", secs(3)).unwrap();
    assert_eq!(st.get(id).unwrap().finished_at, Some(secs(3)));
    assert!(st.replay(id, secs(4)));
    assert_eq!(st.get(id).unwrap().finished_at, None);
    assert_eq!(st.cancel(id, secs(5)), CancelOutcome::Cancelled);
    assert_eq!(st.get(id).unwrap().finished_at, Some(secs(5)));
}

#[test]
fn oldest_due_ignores_future_jobs_and_looks_across_priorities() {
    let mut st = state();
    assert_eq!(st.oldest_due(), None);
    add(&mut st, job("k").delay(Duration::from_secs(60)), t0());
    st.maintain(t0());
    assert_eq!(st.oldest_due(), None, "only a future job");
    add(&mut st, job("k").priority(9), secs(5));
    add(&mut st, job("p").priority(-2).run_at(secs(-7)), secs(5));
    st.set_paused("p", true);
    st.maintain(secs(5));
    assert_eq!(st.oldest_due(), Some(secs(-7)), "a paused kind counts");
    st.maintain(secs(60));
    assert_eq!(st.oldest_due(), Some(secs(-7)));
}

#[test]
fn run_now_makes_a_delayed_job_due() {
    let mut st = state();
    let later = add(&mut st, job("k").delay(Duration::from_secs(3600)), t0());
    let due = add(&mut st, job("k"), t0());
    st.take_events();
    assert!(!st.run_now(due, secs(1)), "already due");
    assert!(!st.run_now(JobId::new(), secs(1)));
    assert!(st.run_now(later, secs(1)));
    assert!(st.take_events().ready);
    assert!(!st.run_now(later, secs(1)), "twice");
    assert_eq!(st.get(later).unwrap().scheduled_at, secs(1));
    assert_eq!(claim(&mut st, &[], secs(1)).unwrap().id, due);
    let j = claim(&mut st, &[], secs(1)).unwrap();
    assert_eq!(j.id, later);
    assert!(!st.run_now(later, secs(1)), "running");
    assert_eq!(st.next_due(secs(1)), Some(LEASE), "the delayed entry went");
}

#[test]
fn delete_takes_only_finished_jobs_and_frees_their_keys() {
    let mut st = state();
    let window = Duration::from_secs(600);
    let a = add(&mut st, job("u").unique_for("w", window), t0());
    assert!(!st.delete(a), "pending");
    let j = claim(&mut st, &[], t0()).unwrap();
    assert!(!st.delete(a), "running");
    st.ack(&lease(&j), t0()).unwrap();
    assert_eq!(add(&mut st, job("u").unique_for("w", window), t0()), a);
    assert!(st.delete(a));
    assert!(st.get(a).is_none());
    assert!(!st.delete(a), "twice");
    assert_ne!(add(&mut st, job("u").unique_for("w", window), t0()), a);
    assert_eq!(st.stats().completed, 0);
    assert_eq!(st.finished.len(), 0);
}

#[test]
fn purge_takes_the_oldest_finished_of_a_state() {
    let mut st = state();
    let mut cancelled = Vec::new();
    for i in 0..4 {
        let id = add(&mut st, job("k"), t0());
        assert_eq!(st.cancel(id, secs(i)), CancelOutcome::Cancelled);
        cancelled.push(id);
    }
    let done = add(&mut st, job("k"), t0());
    let j = claim(&mut st, &[], t0()).unwrap();
    st.ack(&lease(&j), secs(4)).unwrap();

    let hour = Duration::from_secs(3600);
    assert_eq!(st.purge(JobState::Cancelled, hour, 100, secs(10)), 0);
    let age = Duration::from_secs(8);
    assert_eq!(st.purge(JobState::Cancelled, age, 1, secs(10)), 1);
    assert!(st.get(cancelled[0]).is_none(), "the oldest first");
    assert_eq!(st.purge(JobState::Cancelled, age, 100, secs(10)), 2);
    assert!(st.get(cancelled[3]).is_some(), "finished 7 s before");
    assert_eq!(state_of(&st, done), JobState::Completed, "another state");
    assert_eq!(st.purge(JobState::Completed, Duration::ZERO, 5, secs(3)), 0);
    assert_eq!(st.purge(JobState::Completed, Duration::ZERO, 5, secs(4)), 1);
    let s = st.stats();
    assert_eq!((s.completed, s.cancelled), (0, 1));
}
