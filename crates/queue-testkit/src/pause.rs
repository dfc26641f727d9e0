//! The pause stored in the backend: a paused kind is never claimed, by any handle, until
//! it is resumed; resuming wakes idle workers.

use std::time::Duration;

use queue_core::{Backend, Job, JobId, JobState, QueueError, Worker, MAX_KIND_LEN};
use time::OffsetDateTime;

use crate::support::{
    as_queue, assert_completed, claim, enqueue, get, job, lease_of, wait_until, Counter, WAIT,
};
use crate::{Factory, Setup};

/// Pauses `kind`, which must succeed.
async fn pause(q: &dyn Backend, kind: &str) {
    q.pause_kind(kind).await.unwrap_or_else(|e| {
        panic!(
            "pause_kind({kind:?}) failed: {}",
            queue_core::ErrorChain(&e)
        )
    });
}

/// Resumes `kind`, which must succeed.
async fn resume(q: &dyn Backend, kind: &str) {
    q.resume_kind(kind).await.unwrap_or_else(|e| {
        panic!(
            "resume_kind({kind:?}) failed: {}",
            queue_core::ErrorChain(&e)
        )
    });
}

/// The paused kinds, which must be readable.
async fn paused(q: &dyn Backend) -> Vec<String> {
    q.paused_kinds().await.expect("paused_kinds failed")
}

/// Asserts that no claim of `kinds` returns anything now.
async fn assert_nothing_claimed(q: &dyn Backend, kinds: &[&str], what: &str) {
    let got = q
        .dequeue_batch(kinds, 10)
        .await
        .expect("dequeue_batch failed");
    let ids: Vec<_> = got.iter().map(|j| (j.id, j.kind.clone())).collect();
    assert!(
        ids.is_empty(),
        "{what}: claim of {kinds:?} returned {ids:?}"
    );
}

/// A paused kind is claimed neither by a claim naming it nor by an any-kind claim, even
/// when its jobs are the best in the queue; other kinds are claimed as usual, and
/// enqueue keeps accepting the paused kind.
pub async fn paused_kind_is_not_claimed(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    let best = enqueue(&*q, job("p").priority(10)).await;
    enqueue(&*q, job("p").priority(10)).await;
    let o1 = enqueue(&*q, job("o")).await;
    let o2 = enqueue(&*q, job("o")).await;
    pause(&*q, "p").await;
    let late = enqueue(&*q, job("p").priority(20)).await;

    assert_nothing_claimed(&*q, &["p"], "only the paused kind asked for").await;
    assert_eq!(
        claim(&*q, &[]).await.id,
        o1,
        "any-kind claim skips the paused kind"
    );
    assert_eq!(
        claim(&*q, &["p", "o"]).await.id,
        o2,
        "a filter naming the paused kind claims only the others"
    );
    assert_nothing_claimed(&*q, &[], "only paused jobs are left").await;
    assert_nothing_claimed(&*q, &["p", "o"], "only paused jobs are left").await;
    for id in [best, late] {
        let j = get(&*q, id).await;
        assert_eq!(
            (j.state, j.attempts),
            (JobState::Pending, 0),
            "a paused job waits untouched"
        );
    }
}

/// Claims under a pause keep claim order across the other kinds (priority, then due
/// time, then id), leave jobs not yet due, and fill their batch from several kinds and
/// priorities, with or without a kind filter.
pub async fn claims_under_pause_keep_order(f: &dyn Factory) {
    for kinds in [&[][..], &["a", "p", "c"][..]] {
        let q = f.make(Setup::default()).await;
        let now = OffsetDateTime::now_utc();
        let early = now - time::Duration::seconds(10);
        let mid = now - time::Duration::seconds(5);
        // Made up front so the lower id is enqueued last: only the id breaks the tie.
        let (low_id, high_id) = (JobId::new(), JobId::new());
        // The best jobs of the queue, all paused.
        for i in 0..5 {
            enqueue(
                &*q,
                job("p")
                    .priority(9)
                    .run_at(early - time::Duration::seconds(i)),
            )
            .await;
        }
        let a_now = enqueue(&*q, job("a")).await;
        let c_high = enqueue(&*q, job("c").priority(5)).await;
        let a_high_early = enqueue(&*q, job("a").priority(5).run_at(early)).await;
        let c_early = enqueue(&*q, job("c").run_at(early)).await;
        let c_hi_id = enqueue(&*q, job("c").priority(1).run_at(mid).id(high_id)).await;
        let a_lo_id = enqueue(&*q, job("a").priority(1).run_at(mid).id(low_id)).await;
        let later = enqueue(&*q, job("a").priority(7).delay(Duration::from_secs(3600))).await;
        pause(&*q, "p").await;

        let claim_ids = |max: usize| {
            let q = &q;
            async move {
                q.dequeue_batch(kinds, max)
                    .await
                    .expect("dequeue_batch failed")
                    .iter()
                    .map(|j| j.id)
                    .collect::<Vec<JobId>>()
            }
        };
        let expected = [a_high_early, c_high, a_lo_id, c_hi_id, c_early, a_now];
        assert_eq!(
            claim_ids(4).await,
            expected[..4],
            "first 4, kinds {kinds:?}"
        );
        assert_eq!(
            claim_ids(10).await,
            expected[4..],
            "the rest, kinds {kinds:?}"
        );
        assert!(
            claim_ids(10).await.is_empty(),
            "only paused and later jobs are left"
        );
        assert_eq!(get(&*q, later).await.attempts, 0, "a job not yet due waits");
    }
}

/// Resuming makes the kind's jobs claimable again, in claim order.
pub async fn resume_makes_kind_claimable(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    let first = enqueue(&*q, job("p").priority(5)).await;
    let second = enqueue(&*q, job("p")).await;
    pause(&*q, "p").await;
    assert_nothing_claimed(&*q, &[], "paused").await;
    resume(&*q, "p").await;
    assert_eq!(claim(&*q, &["p"]).await.id, first);
    assert_eq!(claim(&*q, &[]).await.id, second);
}

/// Pausing a paused kind and resuming a kind that is not paused change nothing and
/// succeed; so does pausing a kind with no jobs.
pub async fn pause_and_resume_are_idempotent(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    resume(&*q, "never-paused").await;
    assert!(paused(&*q).await.is_empty());
    pause(&*q, "p").await;
    pause(&*q, "p").await;
    assert_eq!(paused(&*q).await, ["p"]);
    let id = enqueue(&*q, job("p")).await;
    assert_nothing_claimed(&*q, &["p"], "paused twice").await;
    resume(&*q, "p").await;
    resume(&*q, "p").await;
    assert!(paused(&*q).await.is_empty());
    assert_eq!(claim(&*q, &["p"]).await.id, id);
}

/// A kind that no job could have is refused with `InvalidJob`, and nothing is paused.
pub async fn pause_validates_kind(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    let long = "k".repeat(MAX_KIND_LEN + 1);
    for bad in ["", " padded", "tab\tkind", long.as_str()] {
        let p = q.pause_kind(bad).await;
        assert!(
            matches!(p, Err(QueueError::InvalidJob(_))),
            "pause_kind({bad:?}) should be InvalidJob, got {p:?}"
        );
        let r = q.resume_kind(bad).await;
        assert!(
            matches!(r, Err(QueueError::InvalidJob(_))),
            "resume_kind({bad:?}) should be InvalidJob, got {r:?}"
        );
    }
    assert!(paused(&*q).await.is_empty(), "a refused kind was stored");
}

/// `paused_kinds` and `stats` list the paused kinds, sorted; the paused jobs still
/// count as pending.
pub async fn paused_kinds_are_listed_sorted(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    enqueue(&*q, job("b")).await;
    enqueue(&*q, job("c")).await;
    for kind in ["c", "a", "b"] {
        pause(&*q, kind).await;
    }
    assert_eq!(paused(&*q).await, ["a", "b", "c"]);
    let stats = q.stats().await.expect("stats failed");
    assert_eq!(stats.paused, ["a", "b", "c"], "stats list the paused kinds");
    assert_eq!(stats.pending, 2, "paused jobs are pending");
    resume(&*q, "b").await;
    assert_eq!(paused(&*q).await, ["a", "c"]);
    let stats = q.stats().await.expect("stats failed");
    assert_eq!(stats.paused, ["a", "c"]);
}

/// A job claimed before its kind was paused keeps its lease: heartbeats and the ack
/// succeed.
pub async fn claimed_job_outlives_pause(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    let id = enqueue(&*q, job("p")).await;
    let running = claim(&*q, &["p"]).await;
    pause(&*q, "p").await;
    let lease = lease_of(&running);
    assert_eq!(
        q.heartbeat(&[lease]).await.expect("heartbeat failed"),
        [queue_core::LeaseStatus::Held],
        "the lease of a running job survives a pause"
    );
    q.ack(&lease).await.expect("ack after pause failed");
    assert_completed(&*q, id).await;
}

/// Two handles on one backend (two processes) see each other's pause and resume.
pub async fn pause_is_shared_between_handles(f: &dyn Factory) {
    let [a, b] = f.make_pair(Setup::default()).await;
    let id = enqueue(&*a, job("p")).await;
    pause(&*a, "p").await;
    assert_eq!(paused(&*b).await, ["p"], "the other handle sees the pause");
    assert_nothing_claimed(&*b, &["p"], "paused on the other handle").await;
    assert_nothing_claimed(&*b, &[], "paused on the other handle").await;
    resume(&*b, "p").await;
    assert!(
        paused(&*a).await.is_empty(),
        "the first handle sees the resume"
    );
    assert_eq!(claim(&*a, &["p"]).await.id, id);
}

/// A worker idle because its only kind is paused starts the job soon after another
/// handle resumes the kind: the resume wakes it (its poll interval is far longer than
/// the wait).
pub async fn resume_wakes_idle_worker(f: &dyn Factory) {
    let [a, b] = f.make_pair(Setup::default()).await;
    pause(&*a, "p").await;
    let id = enqueue(&*a, job("p")).await;
    let ran = Counter::default();
    let r = ran.clone();
    let w = Worker::new(as_queue(&b))
        .handle("p", move |_job: Job| {
            let r = r.clone();
            async move {
                r.bump();
                Ok(())
            }
        })
        .poll_interval(Duration::from_secs(60))
        .start()
        .expect("worker start failed");
    // Let the worker find nothing claimable and go to sleep.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(ran.get(), 0, "a job of a paused kind ran");
    resume(&*a, "p").await;
    wait_until(
        "the idle worker to wake and run the resumed job",
        WAIT,
        || async { ran.get() == 1 },
    )
    .await;
    w.shutdown(Duration::from_secs(5)).await;
    assert_completed(&*a, id).await;
}
