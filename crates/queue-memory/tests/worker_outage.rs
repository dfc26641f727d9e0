//! The worker when its backend stops answering (a restart, a cut connection), made
//! reproducible with a MemoryQueue behind a switch: a handler never outlives the lease
//! the worker last knew it held, and a claim that answers too late is handed back.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use queue_core::{Browsable, Job, JobState, Queue, Worker};
use queue_memory::MemoryQueue;
use queue_testkit::intercept::{HangingHeartbeats, Hooks, Intercepted};
use queue_testkit::support::{wait_until, Counter, InFlight};
use serde_json::json;

const LEASE: Duration = Duration::from_millis(400);
/// Bound of the waits; a working worker needs about a lease.
const WAIT: Duration = Duration::from_secs(10);

/// Heartbeats hang while `beats` is down (as calls to a vanished server do until they time out),
/// and the next `slow_claims` claims answer only after `delay`.
struct Outage {
    beats: HangingHeartbeats,
    slow_claims: AtomicU32,
    delay: Duration,
}

/// `inner` behind an outage switched off.
fn outage(inner: Arc<MemoryQueue>) -> Intercepted<Outage> {
    let hooks = Outage {
        beats: HangingHeartbeats::default(),
        slow_claims: AtomicU32::new(0),
        // Past the point where a heartbeat could still renew the leases in time, yet
        // (mostly) before they run out.
        delay: LEASE * 3 / 4,
    };
    Intercepted::new(inner, hooks)
}

#[async_trait]
impl Hooks for Outage {
    async fn claimed(&self, _jobs: &[Job]) {
        let slow = self
            .slow_claims
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if slow {
            // Claimed at once, answered late: the worker cannot tell how old the leases are.
            tokio::time::sleep(self.delay).await;
        }
    }

    async fn heartbeat(&self) {
        self.beats.wait_while_down().await;
    }
}

fn memory() -> Arc<MemoryQueue> {
    Arc::new(MemoryQueue::builder().lease_timeout(LEASE).build())
}

/// Heartbeats hang while a handler runs, so the lease runs out and another worker claims
/// the job: the first worker has stopped its handler by then, so the job never runs twice
/// at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_stops_when_its_lease_cannot_be_renewed() {
    let memory = memory();
    let outage = Arc::new(outage(memory.clone()));
    let id = memory.enqueue(Job::new("long", json!(1))).await.unwrap();
    let (starts, in_flight) = (Counter::default(), InFlight::default());
    let worker = |q: Arc<dyn Queue>| {
        let (s, t) = (starts.clone(), in_flight.clone());
        Worker::new(q)
            .handle("long", move |_job: Job| {
                let (s, t) = (s.clone(), t.clone());
                async move {
                    s.bump();
                    t.enter();
                    // Leaves even when the worker drops the handler.
                    struct Leave(InFlight);
                    impl Drop for Leave {
                        fn drop(&mut self) {
                            self.0.leave();
                        }
                    }
                    let _leave = Leave(t);
                    tokio::time::sleep(LEASE * 5).await;
                    Ok(())
                }
            })
            .start()
            .unwrap()
    };
    let cut_off = worker(outage.clone());
    wait_until("the job to start", WAIT, || async { starts.get() == 1 }).await;
    outage.hooks().beats.set_down(true);
    // Cut off, it cannot claim either; the other worker takes the job.
    cut_off.pause("long");

    let other = worker(memory.clone());
    wait_until("another worker to claim the job", WAIT, || async {
        starts.get() == 2
    })
    .await;
    assert_eq!(in_flight.max(), 1, "the job ran twice at the same time");
    assert_eq!(
        cut_off.stats().lease_lost,
        1,
        "the cut-off worker should have given the job up"
    );
    outage.hooks().beats.set_down(false);
    wait_until("the job to complete", WAIT, || async {
        memory.get_job(id).await.unwrap().unwrap().state == JobState::Completed
    })
    .await;
    cut_off.shutdown(Duration::from_secs(5)).await;
    other.shutdown(Duration::from_secs(5)).await;
    assert_eq!(in_flight.max(), 1, "the job ran twice at the same time");
}

/// A claim that answers so late that its leases may run out before a heartbeat can
/// renew them is handed back (without using an attempt, unless the lease ran out
/// meanwhile) rather than run, and the next claim runs the job.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_answered_too_late_is_handed_back() {
    let memory = memory();
    let outage = Arc::new(outage(memory.clone()));
    outage.hooks().slow_claims.store(1, Ordering::SeqCst);
    let id = memory.enqueue(Job::new("k", json!(1))).await.unwrap();
    let starts = Counter::default();
    let s = starts.clone();
    let worker = Worker::new(outage.clone())
        .handle("k", move |_job: Job| {
            let s = s.clone();
            async move {
                s.bump();
                Ok(())
            }
        })
        .start()
        .unwrap();
    wait_until("the job to complete", WAIT, || async {
        memory.get_job(id).await.unwrap().unwrap().state == JobState::Completed
    })
    .await;
    let stats = worker.stats();
    worker.shutdown(Duration::from_secs(5)).await;
    assert_eq!(starts.get(), 1, "the handed-back claim must not run");
    assert_eq!(stats.claimed, 2, "{stats:?}");
    // On a stalled machine the lease may run out before the hand-back arrives.
    assert_eq!(stats.returned + stats.lease_lost, 1, "{stats:?}");
    if stats.returned == 1 {
        let job = memory.get_job(id).await.unwrap().unwrap();
        assert_eq!(job.attempts, 1, "handing back must not use an attempt");
    }
}
