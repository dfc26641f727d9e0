//! The claim loop and the task that runs one job.

use std::sync::Arc;
use std::time::Duration;

use tracing::Instrument;

use super::handler::{CatchPanic, JobError};
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
    loop {
        if shared.is_stopping() {
            return;
        }
        sub.mark_seen();
        let p = plan(&shared);
        if p.free == 0 || (p.open.is_empty() && p.limited.is_empty()) {
            shared.wake.notified().await;
            continue;
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
            match shared.queue.dequeue_batch(&kinds, n).await {
                Ok(jobs) => {
                    got += jobs.len();
                    free -= jobs.len().min(free);
                    for job in jobs {
                        spawn_job(&shared, job);
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
        if got == requested {
            // Every batch came back full: there may be more right now.
            continue;
        }

        let kinds: Vec<&str> = shared.kinds.iter().map(String::as_str).collect();
        let mut sleep = shared.poll_interval;
        if let Some(due) = shared.queue.next_due(&kinds).await {
            sleep = sleep.min(due.max(Duration::from_millis(1)));
        }
        tokio::select! {
            _ = sub.wait(sleep) => {}
            _ = shared.wake.notified() => {}
        }
    }
}

fn spawn_job(shared: &Arc<Shared>, job: Job) {
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
