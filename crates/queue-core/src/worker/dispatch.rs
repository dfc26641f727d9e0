//! The claim loop and the task that runs one job.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tracing::Instrument;

use super::handler::{CatchPanic, Handler, JobError};
use super::heartbeat::{beat_every, trusted};
use super::settle::{settle_one, Claimed, Outcome, Settle};
use super::shared::{Counters, Running, Shared};
use crate::{Job, Lease};

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
            if n == 0 || shared.is_stopping() {
                continue;
            }
            requested += n;
            let started = Instant::now();
            // The leases start on the server after this moment: they hold at least this long.
            let lease = shared.queue.lease_timeout();
            let held_until = tokio::time::Instant::from_std(started) + trusted(lease);
            // Never cancelled (shutdown and drop let it finish): a claim whose answer is
            // dropped leaves its jobs claimed until their leases run out.
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
                    give_back(&shared, jobs).await;
                }
                Ok(jobs) => {
                    got += jobs.len();
                    free -= jobs.len().min(free);
                    let mut refused = Vec::new();
                    for job in jobs {
                        if let Some(job) = spawn_job(&shared, job, held_until) {
                            refused.push(job);
                        }
                    }
                    give_back(&shared, refused).await;
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

/// Returns claimed jobs to the queue without using an attempt. Done here rather than
/// through the settle task: after a shutdown stopped waiting for this claim, that task
/// may be gone.
async fn give_back(shared: &Shared, jobs: Vec<Job>) {
    for job in jobs {
        Counters::add(&shared.counters.claimed, 1);
        if let Some(lease) = job.lease {
            let s = Settle {
                lease,
                job: Claimed::of(&job),
                outcome: Outcome::Return,
            };
            settle_one(shared, &s).await;
        }
    }
}

/// Starts the job's handler; returns the job instead when it must go back to the queue
/// (the worker is stopping, or has no handler for it).
fn spawn_job(shared: &Arc<Shared>, job: Job, held_until: tokio::time::Instant) -> Option<Job> {
    let Some(lease) = job.lease else {
        Counters::add(&shared.counters.claimed, 1);
        tracing::error!(id = %job.id, "backend returned a claimed job without a lease; skipped");
        return None;
    };
    let Some(handler) = shared.handlers.get(&job.kind).cloned() else {
        // Cannot happen: we claim only kinds we handle. Give it back untouched.
        tracing::error!(id = %job.id, kind = %job.kind, "claimed a job with no handler");
        return Some(job);
    };
    let span = tracing::info_span!("job", id = %job.id, kind = %job.kind, attempt = job.attempts);
    let kind = job.kind.clone();
    // Stopping is checked, and the job entered with its abort handle, under the lock that
    // shutdown's sweep of running handlers takes after setting `stopping`: either the sweep
    // sees (and stops) this handler, or this sees `stopping`. No handler runs unsupervised.
    let mut st = shared.lock();
    if shared.is_stopping() {
        // Its result would not be waited for; give it back before it starts.
        drop(st);
        return Some(job);
    }
    Counters::add(&shared.counters.claimed, 1);
    let settler = Settler {
        shared: shared.clone(),
        lease,
        job: Some(Claimed::of(&job)),
        outcome: None,
    };
    let task = tokio::spawn(run(settler, handler, job, shared.handler_timeout).instrument(span));
    *st.per_kind.entry(kind.clone()).or_insert(0) += 1;
    st.running.insert(
        lease.id,
        Running {
            lease,
            held_until,
            kind,
            abort: Some(task.abort_handle()),
        },
    );
    None
}

/// Runs one handler; its [`Settler`] records the outcome.
async fn run(mut settler: Settler, handler: Handler, job: Job, timeout: Option<Duration>) {
    let fut = CatchPanic(handler(job));
    let result = match timeout {
        Some(t) => tokio::time::timeout(t, fut).await.ok(),
        None => Some(fut.await),
    };
    let counters = &settler.shared.counters;
    let outcome = match result {
        None => {
            Counters::add(&counters.timed_out, 1);
            tracing::warn!("handler timed out");
            Outcome::Retry(format!(
                "handler timed out after {:?}",
                timeout.unwrap_or_default()
            ))
        }
        Some(Err(panic)) => {
            Counters::add(&counters.panicked, 1);
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
    settler.outcome = Some(outcome);
}

/// Settles a job when its handler task ends, however it ends: with the handler's outcome
/// when it returned one, otherwise (stopped by shutdown or drop) by returning the job to
/// the queue. The task's end is the one place that decides, so a handler finishing just as
/// shutdown stops it gets exactly one of the two. Only the owner of the running entry
/// settles: the heartbeat may have taken it (lease lost), and then nothing is recorded.
struct Settler {
    shared: Arc<Shared>,
    lease: Lease,
    job: Option<Claimed>,
    outcome: Option<Outcome>,
}

impl Drop for Settler {
    fn drop(&mut self) {
        let Some(job) = self.job.take() else {
            return;
        };
        let stopped = self.outcome.is_none();
        let outcome = self.outcome.take().unwrap_or(Outcome::Return);
        let owned = self.shared.finish(Settle {
            lease: self.lease,
            job,
            outcome,
        });
        if owned && stopped {
            Counters::add(&self.shared.stopped, 1);
        }
    }
}
