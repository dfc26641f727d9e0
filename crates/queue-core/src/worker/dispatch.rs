//! The claim loop and the task that runs one job.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tracing::Instrument;

use super::handler::{CatchPanic, JobError};
use super::heartbeat::{beat_every, trusted};
use super::settle::{Outcome, Settle};
use super::shared::{Counters, Running, Shared};
use crate::Job;

/// Longest pause after a failing claim.
const MAX_ERROR_BACKOFF: Duration = Duration::from_secs(5);

/// What to claim next: kinds without a limit share the free slots; each limited kind gets
/// at most its spare capacity.
struct Plan {
    free: usize,
    open: Vec<String>,
    limited: Vec<(String, usize)>,
}

fn plan(shared: &Shared) -> Plan {
    let st = shared.lock();
    let free = shared.concurrency.saturating_sub(st.running.len());
    let mut open = Vec::new();
    let mut limited = Vec::new();
    for kind in &shared.kinds {
        if st.paused.contains(kind) {
            continue;
        }
        match shared.limits.get(kind) {
            None => open.push(kind.clone()),
            Some(limit) => {
                let used = st.per_kind.get(kind).copied().unwrap_or(0);
                if used < *limit {
                    limited.push((kind.clone(), limit - used));
                }
            }
        }
    }
    Plan {
        free,
        open,
        limited,
    }
}

pub(crate) async fn claim_loop(shared: Arc<Shared>) {
    let mut sub = shared.queue.subscribe();
    let mut error_backoff = Duration::from_millis(50);
    // Whether the last claims came back full, and how long the last one took.
    let mut backlog = false;
    let mut claim_time = Duration::ZERO;
    let mut due = NextDue::default();
    loop {
        if shared.is_stopping() {
            return;
        }
        sub.mark_seen();
        let mut p = plan(&shared);
        if p.free == 0 || (p.open.is_empty() && p.limited.is_empty()) {
            shared.wake.notified().await;
            continue;
        }
        if backlog && p.free < gather_target(&shared) {
            gather(&shared, claim_time).await;
            p = plan(&shared);
        }

        let mut requested = 0;
        let mut got = 0;
        let mut failed = false;
        let mut free = p.free;
        let mut groups: Vec<(Vec<&str>, usize)> = Vec::new();
        if !p.open.is_empty() {
            groups.push((p.open.iter().map(String::as_str).collect(), usize::MAX));
        }
        for (kind, spare) in &p.limited {
            groups.push((vec![kind.as_str()], *spare));
        }
        for (kinds, cap) in groups {
            let n = free.min(cap).min(shared.batch_size);
            if n == 0 {
                continue;
            }
            requested += n;
            let started = Instant::now();
            // The leases start on the server after this moment: they hold at least this long.
            let lease = shared.queue.lease_timeout();
            let held_until = tokio::time::Instant::from_std(started) + trusted(lease);
            let claimed = shared.queue.dequeue_batch(&kinds, n).await;
            claim_time = started.elapsed();
            match claimed {
                Ok(jobs) if held_until < tokio::time::Instant::now() + beat_every(lease) => {
                    // The claim took so long (waiting for a reconnect, a stalled server)
                    // that its leases may run out before a heartbeat can renew them. Rather
                    // than run jobs that may be handed to someone else meanwhile, give them
                    // back untouched; the next claim, quick again, takes them.
                    tracing::warn!(
                        jobs = jobs.len(),
                        took = ?claim_time,
                        "claim answered too late to trust its leases; handing the jobs back"
                    );
                    got += jobs.len();
                    for job in jobs {
                        Counters::add(&shared.counters.claimed, 1);
                        if let Some(lease) = job.lease {
                            shared.send(Settle {
                                lease,
                                outcome: Outcome::Return,
                            });
                        }
                    }
                }
                Ok(jobs) => {
                    got += jobs.len();
                    free -= jobs.len().min(free);
                    for job in jobs {
                        spawn_job(&shared, job, held_until);
                    }
                }
                Err(e) => {
                    Counters::add(&shared.counters.errors, 1);
                    tracing::warn!(error = %e, kinds = ?kinds, "claiming jobs failed; backing off");
                    failed = true;
                    break;
                }
            }
        }

        if failed {
            tokio::select! {
                _ = tokio::time::sleep(error_backoff) => {}
                _ = shared.wake.notified() => {}
            }
            error_backoff = (error_backoff * 2).min(MAX_ERROR_BACKOFF);
            continue;
        }
        error_backoff = Duration::from_millis(50);
        backlog = got == requested;
        if backlog {
            // Every batch came back full: there may be more right now.
            continue;
        }

        if got > 0 {
            due.forget();
        }
        let now = tokio::time::Instant::now();
        let next = match due.known(now) {
            Some(next) => next,
            None => {
                let kinds: Vec<&str> = shared.kinds.iter().map(String::as_str).collect();
                let next = shared.queue.next_due(&kinds).await.map(|d| now + d);
                due.learn(next);
                next
            }
        };
        let mut sleep = shared.poll_interval;
        if let Some(at) = next {
            sleep = sleep.min(
                at.saturating_duration_since(now)
                    .max(Duration::from_millis(1)),
            );
        }
        let notified = tokio::select! {
            n = sub.wait(sleep) => n,
            _ = shared.wake.notified() => false,
        };
        if notified {
            due.forget();
        }
    }
}

/// When the next delayed job is due, as last asked. An idle worker asks again only when
/// something may have changed (a wake-up, a claim, that time arriving) or every few polls
/// (backends without wake-ups), so idling costs about one claim per poll interval.
#[derive(Default)]
struct NextDue {
    /// `None`: unknown; `Some(None)`: nothing is delayed.
    at: Option<Option<tokio::time::Instant>>,
    polls: u32,
}

impl NextDue {
    const REASK_EVERY: u32 = 10;

    fn known(&mut self, now: tokio::time::Instant) -> Option<Option<tokio::time::Instant>> {
        self.polls += 1;
        match self.at {
            Some(Some(at)) if at <= now => None,
            _ if self.polls >= Self::REASK_EVERY => None,
            known => known,
        }
    }

    fn learn(&mut self, at: Option<tokio::time::Instant>) {
        self.at = Some(at);
        self.polls = 0;
    }

    fn forget(&mut self) {
        self.at = None;
    }
}

/// Free slots worth one claim while a backlog lasts: a whole batch.
fn gather_target(shared: &Shared) -> usize {
    shared.batch_size.min(shared.concurrency)
}

/// With a backlog, claiming the moment one slot frees means one round trip per job. So wait
/// for more slots to free, but no longer than a claim takes: at worst a slot idles for one
/// extra round trip, and short jobs get claimed in batches.
async fn gather(shared: &Shared, claim_time: Duration) {
    let deadline = tokio::time::Instant::now() + claim_time;
    let target = gather_target(shared);
    while !shared.is_stopping() && plan(shared).free < target {
        if tokio::time::timeout_at(deadline, shared.wake.notified())
            .await
            .is_err()
        {
            return;
        }
    }
}

fn spawn_job(shared: &Arc<Shared>, job: Job, held_until: tokio::time::Instant) {
    Counters::add(&shared.counters.claimed, 1);
    let Some(lease) = job.lease else {
        tracing::error!(id = %job.id, "backend returned a claimed job without a lease; skipped");
        return;
    };
    let Some(handler) = shared.handlers.get(&job.kind).cloned() else {
        // Cannot happen: we claim only kinds we handle. Give it back untouched.
        tracing::error!(id = %job.id, kind = %job.kind, "claimed a job with no handler");
        shared.send(Settle {
            lease,
            outcome: Outcome::Return,
        });
        return;
    };
    let span = tracing::info_span!("job", id = %job.id, kind = %job.kind, attempt = job.attempts);
    let kind = job.kind.clone();
    {
        let mut st = shared.lock();
        *st.per_kind.entry(kind.clone()).or_insert(0) += 1;
        st.running.insert(
            job.id,
            Running {
                lease,
                held_until,
                kind,
                abort: None,
            },
        );
    }
    let task_shared = shared.clone();
    let timeout = shared.handler_timeout;
    let task = tokio::spawn(
        async move {
            let fut = CatchPanic(handler(job));
            let result = match timeout {
                Some(t) => tokio::time::timeout(t, fut).await.ok(),
                None => Some(fut.await),
            };
            let outcome = match result {
                None => {
                    Counters::add(&task_shared.counters.timed_out, 1);
                    tracing::warn!("handler timed out");
                    Outcome::Retry(format!(
                        "handler timed out after {:?}",
                        timeout.unwrap_or_default()
                    ))
                }
                Some(Err(panic)) => {
                    Counters::add(&task_shared.counters.panicked, 1);
                    tracing::error!(panic = %panic, "handler panicked");
                    Outcome::Retry(format!("handler panicked: {panic}"))
                }
                Some(Ok(Ok(()))) => Outcome::Done,
                Some(Ok(Err(JobError::Retry(e)))) => {
                    tracing::info!(error = %e, "attempt failed");
                    Outcome::Retry(e)
                }
                Some(Ok(Err(JobError::Discard(r)))) => {
                    tracing::info!(reason = %r, "job discarded");
                    Outcome::Discard(r)
                }
                Some(Ok(Err(JobError::Snooze(d)))) => Outcome::Snooze(d),
            };
            // Only the owner of the running entry settles: the heartbeat or shutdown may
            // have taken it already (lease lost, or returned to the queue).
            task_shared.finish(Settle { lease, outcome });
        }
        .instrument(span),
    );
    let mut st = shared.lock();
    if let Some(r) = st.running.get_mut(&lease.id) {
        r.abort = Some(task.abort_handle());
    }
}
