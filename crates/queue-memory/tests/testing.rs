//! The testing helpers of MemoryQueue: a manual clock and assertions on what is enqueued.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Duration;

use queue_core::{
    Browsable, Job, JobArgs, JobError, JobState, Queue, QueueError, RetryPolicy, Worker,
};
use queue_memory::{ManualClock, MemoryQueue};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::macros::datetime;
use time::OffsetDateTime;

const HOUR: Duration = Duration::from_secs(3600);

fn start() -> OffsetDateTime {
    datetime!(2030-01-01 00:00 UTC)
}

fn manual() -> (ManualClock, MemoryQueue) {
    let clock = ManualClock::starting_at(start());
    let queue = MemoryQueue::builder().clock(&clock).build();
    (clock, queue)
}

/// Waits up to 10 s of real time for `f` to finish; the test fails instead of hanging.
async fn within<F: std::future::Future>(what: &str, f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(10), f)
        .await
        .unwrap_or_else(|_| panic!("{what} did not happen within 10 s"))
}

#[tokio::test]
async fn time_stands_still_until_advanced() {
    let (clock, q) = manual();
    let id = q.enqueue(Job::new("k", json!(1))).await.unwrap();
    let job = q.get_job(id).await.unwrap().unwrap();
    assert_eq!((job.created_at, job.scheduled_at), (start(), start()));
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(clock.now(), start());
    clock.advance(Duration::from_millis(1500));
    assert_eq!(clock.now(), datetime!(2030-01-01 00:00:01.5 UTC));
}

#[tokio::test]
async fn a_delayed_job_is_due_only_after_the_advance() {
    let (clock, q) = manual();
    let id = q
        .enqueue(Job::new("report", json!({})).delay(HOUR))
        .await
        .unwrap();
    assert_eq!(
        q.get_job(id).await.unwrap().unwrap().scheduled_at,
        datetime!(2030-01-01 01:00 UTC)
    );
    assert_eq!(q.next_due(&[]).await, Some(HOUR));
    clock.advance(HOUR - Duration::from_secs(1));
    assert!(q.dequeue(&[]).await.unwrap().is_none(), "due in a second");
    clock.advance(Duration::from_secs(1));
    let job = q.dequeue(&[]).await.unwrap().expect("due after an hour");
    assert_eq!(job.id, id);
}

#[tokio::test]
async fn a_nack_with_backoff_is_retried_after_the_advance() {
    let clock = ManualClock::starting_at(start());
    let q = MemoryQueue::builder()
        .clock(&clock)
        .retry(RetryPolicy::exponential(Duration::from_secs(10), HOUR).jitter(0.0))
        .build();
    q.enqueue(Job::new("k", json!(1))).await.unwrap();
    let first = q.dequeue(&[]).await.unwrap().unwrap();
    q.nack(&first.lease().unwrap(), "boom").await.unwrap();
    assert_eq!(
        q.get_job(first.id).await.unwrap().unwrap().scheduled_at,
        datetime!(2030-01-01 00:00:10 UTC)
    );
    clock.advance(Duration::from_secs(9));
    assert!(q.dequeue(&[]).await.unwrap().is_none(), "backoff of 10 s");
    clock.advance(Duration::from_secs(1));
    let second = q
        .dequeue(&[])
        .await
        .unwrap()
        .expect("due after the backoff");
    assert_eq!((second.id, second.attempts), (first.id, 2));

    q.nack(&second.lease().unwrap(), "boom").await.unwrap();
    clock.advance(Duration::from_secs(19));
    assert!(q.dequeue(&[]).await.unwrap().is_none(), "backoff of 20 s");
    clock.advance(Duration::from_secs(1));
    assert!(q.dequeue(&[]).await.unwrap().is_some());
}

#[tokio::test]
async fn snoozes_wait_for_the_advance() {
    let (clock, q) = manual();
    q.enqueue(Job::new("k", json!(1))).await.unwrap();
    let job = q.dequeue(&[]).await.unwrap().unwrap();
    q.snooze(&job.lease().unwrap(), Duration::from_secs(60))
        .await
        .unwrap();
    assert!(q.dequeue(&[]).await.unwrap().is_none());
    clock.advance(Duration::from_secs(60));
    let again = q.dequeue(&[]).await.unwrap().unwrap();
    assert_eq!((again.id, again.attempts), (job.id, 1));
}

#[tokio::test]
async fn leases_run_out_only_on_the_advance() {
    let clock = ManualClock::starting_at(start());
    let q = MemoryQueue::builder()
        .clock(&clock)
        .lease_timeout(Duration::from_secs(30))
        .build();
    let id = q.enqueue(Job::new("k", json!(1))).await.unwrap();
    let first = q.dequeue(&[]).await.unwrap().unwrap();
    assert_eq!(
        first.lease.unwrap().expires_at,
        datetime!(2030-01-01 00:00:30 UTC)
    );
    clock.advance(Duration::from_secs(29));
    assert_eq!(q.reclaim().await.unwrap(), 0);
    assert!(q.heartbeat(&[first.lease().unwrap()]).await.unwrap()[0].is_held());
    clock.advance(Duration::from_secs(29));
    assert_eq!(q.reclaim().await.unwrap(), 0, "the heartbeat renewed it");
    clock.advance(Duration::from_secs(1));
    assert_eq!(q.reclaim().await.unwrap(), 1);
    let again = q.dequeue(&[]).await.unwrap().unwrap();
    assert_eq!((again.id, again.attempts), (id, 2));
    assert!(matches!(
        q.ack(&first.lease().unwrap()).await,
        Err(QueueError::LeaseLost(lost)) if lost == id
    ));
}

#[tokio::test]
async fn unique_windows_lapse_on_the_advance() {
    let (clock, q) = manual();
    let job = || Job::new("k", json!(1)).unique_for("key", HOUR);
    let first = q.enqueue(job()).await.unwrap();
    clock.advance(HOUR - Duration::from_millis(1));
    assert_eq!(q.enqueue(job()).await.unwrap(), first, "the key is held");
    clock.advance(Duration::from_millis(1));
    assert_ne!(q.enqueue(job()).await.unwrap(), first, "the window lapsed");
}

#[tokio::test]
async fn an_advance_wakes_subscribers() {
    let (clock, q) = manual();
    q.enqueue(Job::new("k", json!(1)).delay(HOUR))
        .await
        .unwrap();
    let mut sub = q.subscribe();
    sub.mark_seen();
    let waiting = tokio::spawn(async move { sub.wait(Duration::from_secs(60)).await });
    tokio::task::yield_now().await;
    clock.advance(HOUR);
    assert!(
        within("the wake-up", waiting).await.unwrap(),
        "woken, not timed out"
    );
}

/// An idle worker whose poll would take an hour runs a delayed job as soon as the clock
/// reaches it.
#[tokio::test]
async fn an_advance_wakes_an_idle_worker() {
    let clock = ManualClock::starting_at(start());
    let q = Arc::new(MemoryQueue::builder().clock(&clock).build());
    let id = q
        .enqueue(Job::new("report", json!({})).delay(HOUR))
        .await
        .unwrap();
    let (ran, mut runs) = tokio::sync::mpsc::unbounded_channel();
    let worker = Worker::new(q.clone())
        .handle("report", move |job: Job| {
            let ran = ran.clone();
            async move {
                let _ = ran.send(job.id);
                Ok::<(), JobError>(())
            }
        })
        .poll_interval(HOUR)
        .start()
        .unwrap();
    // Let the worker find nothing due and go to sleep.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(runs.try_recv().is_err(), "ran before its time");
    clock.advance(HOUR);
    assert_eq!(within("the run", runs.recv()).await, Some(id));
    worker.shutdown(Duration::from_secs(5)).await;
}

/// An enqueuer waiting for room is let in when an advance expires the lease that held it.
#[tokio::test]
async fn an_advance_frees_room_for_a_blocked_enqueuer() {
    let clock = ManualClock::starting_at(start());
    let q = Arc::new(
        MemoryQueue::builder()
            .clock(&clock)
            .capacity(1)
            .lease_timeout(Duration::from_secs(30))
            .build(),
    );
    q.enqueue(Job::new("k", json!(1)).max_attempts(1))
        .await
        .unwrap();
    q.dequeue(&[]).await.unwrap().unwrap();
    let blocked = {
        let q = q.clone();
        tokio::spawn(async move { q.enqueue(Job::new("k", json!(2))).await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!blocked.is_finished(), "the queue is full");
    clock.advance(Duration::from_secs(30));
    within("the enqueue", blocked).await.unwrap().unwrap();
    let stats = q.stats().await.unwrap();
    assert_eq!((stats.failed, stats.pending), (1, 1));
}

#[derive(Serialize, Deserialize, JobArgs)]
#[job(kind = "email", unique = "email:{to}")]
struct SendEmail {
    to: String,
}

/// What code under test would do: enqueue a few jobs.
async fn sign_up(q: &MemoryQueue, who: &str) {
    q.enqueue(SendEmail { to: who.into() }.to_job().unwrap())
        .await
        .unwrap();
    q.enqueue(Job::new("audit", json!({"event": "sign-up"})))
        .await
        .unwrap();
}

#[tokio::test]
async fn enqueued_lists_pending_jobs_of_a_kind_oldest_first() {
    let (clock, q) = manual();
    for who in ["a@example.com", "b@example.com", "c@example.com"] {
        sign_up(&q, who).await;
        clock.advance(Duration::from_secs(1));
    }
    q.enqueue(Job::new("email", json!({"to": "later"})).delay(HOUR))
        .await
        .unwrap();
    let claimed = q.dequeue(&["email"]).await.unwrap().unwrap();
    let tos: Vec<String> = q
        .enqueued("email")
        .iter()
        .map(|j| j.payload["to"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        claimed.payload["to"], "a@example.com",
        "running, not enqueued"
    );
    assert_eq!(tos, ["b@example.com", "c@example.com", "later"]);
    assert_eq!(q.enqueued("audit").len(), 3);
    assert!(q.enqueued("nothing").is_empty());
    assert!(q
        .enqueued("email")
        .iter()
        .all(|j| j.state == JobState::Pending));
}

#[tokio::test]
async fn assertions_pass_on_what_is_there() {
    let q = MemoryQueue::new();
    sign_up(&q, "a@example.com").await;
    let job = q.assert_enqueued("email", |j| j.payload["to"] == "a@example.com");
    assert_eq!(job.unique_key.as_deref(), Some("email:a@example.com"));
    let (_, args) = q.assert_enqueued_args(|e: &SendEmail| e.to == "a@example.com");
    assert_eq!(args.to, "a@example.com");
    q.assert_not_enqueued("email", |j| j.payload["to"] == "b@example.com");
    q.assert_not_enqueued("sms", |_| true);
}

fn panic_message(f: impl FnOnce()) -> String {
    let err = catch_unwind(AssertUnwindSafe(f)).expect_err("the assertion should fail");
    err.downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .expect("a text message")
}

#[tokio::test]
async fn failed_assertions_list_what_is_enqueued() {
    let q = MemoryQueue::new();
    sign_up(&q, "a@example.com").await;
    sign_up(&q, "b@example.com").await;

    let msg = panic_message(|| {
        q.assert_enqueued("email", |j| j.payload["to"] == "c@example.com");
    });
    assert!(msg.contains("expected a pending `email` job"), "{msg}");
    assert!(msg.contains("pending `email` jobs: 2"), "{msg}");
    assert!(msg.contains(r#"{"to":"a@example.com"}"#), "{msg}");
    assert!(msg.contains(r#"unique_key "email:b@example.com""#), "{msg}");
    assert!(msg.contains("other kinds: `audit` (2)"), "{msg}");

    let msg = panic_message(|| {
        q.assert_enqueued_args(|e: &SendEmail| e.to.is_empty());
    });
    assert!(msg.contains("whose arguments match"), "{msg}");

    let msg = panic_message(|| {
        q.assert_not_enqueued("email", |j| j.payload["to"] == "b@example.com");
    });
    assert!(msg.contains("expected no pending `email` job"), "{msg}");
    assert!(msg.contains(r#"found "#), "{msg}");

    let msg = panic_message(|| {
        MemoryQueue::new().assert_enqueued("email", |_| true);
    });
    assert!(msg.contains("pending `email` jobs: 0"), "{msg}");
    assert!(msg.contains("no pending jobs of other kinds"), "{msg}");
}
