//! The claim loop: keeps the worker's slots fed.
//!
//! Claims run ahead of the slots: besides the jobs running, up to `prefetch` claimed jobs
//! wait in line, and the next claim goes out as soon as the line is down to half of that.
//! So with a backlog a freed slot takes the next job at once (on the task where the slot
//! freed, see `batch`) instead of idling for a claim's round trip. Waiting jobs hold
//! their leases like running ones: the heartbeat renews them, shutdown and pause hand
//! them back untouched.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::stream::{self, StreamExt};

use super::batch;
use super::cancel::{Cancel, CancelReason};
use super::heartbeat::{beat_every, trusted};
use super::settle::{settle_one, Claimed, Outcome, Settle, PARALLEL};
use super::shared::{Counters, Held, Run, Shared};
use crate::Job;

/// Longest pause after a failing claim.
const MAX_ERROR_BACKOFF: Duration = Duration::from_secs(5);

/// What to claim next: kinds without a limit share the room; each limited kind gets at
/// most its spare capacity. Kinds are indexes into `Shared::kinds`.
pub(crate) struct Plan {
    pub room: usize,
    pub open: Vec<usize>,
    pub limited: Vec<(usize, usize)>,
}

impl Plan {
    /// The claims to make: the kinds of each, and how many of them may be taken.
    pub fn groups<'a>(&self, shared: &'a Shared) -> Vec<(Vec<&'a str>, usize)> {
        let mut groups = Vec::new();
        if !self.open.is_empty() {
            let kinds = self.open.iter().map(|&i| &*shared.kinds[i]).collect();
            groups.push((kinds, usize::MAX));
        }
        for &(kind, spare) in &self.limited {
            groups.push((vec![&*shared.kinds[kind]], spare));
        }
        groups
    }
}

pub(crate) fn plan(shared: &Shared) -> Plan {
    let st = shared.lock();
    // Jobs running or waiting stay within the slots plus the prefetch, and while enough
    // wait, the next claim can wait too.
    let cap = shared.concurrency + shared.prefetch;
    let room = if st.waiting_count() > shared.low_water() {
        0
    } else {
        cap.saturating_sub(st.held.len())
    };
    let mut open = Vec::new();
    let mut limited = Vec::new();
    for (i, kind) in shared.kinds.iter().enumerate() {
        if st.paused.contains(&**kind) {
            continue;
        }
        match shared.limits[i] {
            None => open.push(i),
            Some(limit) => {
                let used = st.per_kind[i];
                if used < limit {
                    limited.push((i, limit - used));
                }
            }
        }
    }
    Plan {
        room,
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
        hand_back_paused(&shared).await;
        // Waiting jobs a pause held back start here once resumed (batch tasks start
        // waiting jobs only as their own jobs end).
        let start = shared.take_startable(&mut shared.lock());
        batch::spawn(&shared, start);
        let mut p = plan(&shared);
        if p.room == 0 || (p.open.is_empty() && p.limited.is_empty()) {
            shared.wake.notified().await;
            continue;
        }
        if backlog && shared.prefetch == 0 && p.room < gather_target(&shared) {
            gather(&shared, claim_time).await;
            p = plan(&shared);
        }

        let mut requested = 0;
        let mut got = 0;
        let mut failed = false;
        let mut room = p.room;
        for (kinds, cap) in p.groups(&shared) {
            let n = room.min(cap).min(shared.batch_size);
            if n == 0 || shared.is_stopping() {
                continue;
            }
            requested += n;
            match claim(&shared, &kinds, n).await {
                Ok(c) => {
                    claim_time = c.took;
                    got += c.got;
                    room -= c.accepted.min(room);
                }
                Err(e) => {
                    Counters::add(&shared.counters.errors, 1);
                    tracing::warn!(error = %crate::ErrorChain(&e), kinds = ?kinds, "claiming jobs failed; backing off");
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
                let kinds: Vec<&str> = shared.kinds.iter().map(|k| &**k).collect();
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

/// What one claim brought.
pub(crate) struct Claim {
    /// Jobs claimed.
    pub got: usize,
    /// Jobs taken in to run (none when the claim answered too late to trust).
    pub accepted: usize,
    pub took: Duration,
}

/// Claims up to `n` jobs of `kinds` and takes them in to run.
pub(crate) async fn claim(shared: &Arc<Shared>, kinds: &[&str], n: usize) -> crate::Result<Claim> {
    let started = Instant::now();
    // The leases start on the server after this moment: they hold at least this long.
    let lease = shared.queue.lease_timeout();
    let held_until = tokio::time::Instant::from_std(started) + trusted(lease);
    // Never cancelled (shutdown and drop let it finish): a claim whose answer is
    // dropped leaves its jobs claimed until their leases run out.
    let jobs = shared.queue.dequeue_batch(kinds, n).await?;
    let took = started.elapsed();
    let got = jobs.len();
    Counters::add(&shared.counters.claimed, got as u64);
    if held_until < tokio::time::Instant::now() + beat_every(lease) {
        // The claim took so long (waiting for a reconnect, a stalled server) that its
        // leases may run out before a heartbeat can renew them. Rather than run jobs that
        // may be handed to someone else meanwhile, give them back untouched; the next
        // claim, quick again, takes them.
        tracing::warn!(
            jobs = got,
            took = ?took,
            "claim answered too late to trust its leases; handing the jobs back"
        );
        give_back(shared, jobs).await;
        return Ok(Claim {
            got,
            accepted: 0,
            took,
        });
    }
    let refused = accept(shared, jobs, held_until);
    give_back(shared, refused).await;
    Ok(Claim {
        got,
        accepted: got,
        took,
    })
}

/// Takes claimed jobs into the waiting line and starts what free slots allow; returns
/// the jobs to hand back (the worker is stopping, or has no handler for them).
fn accept(shared: &Arc<Shared>, jobs: Vec<Job>, held_until: tokio::time::Instant) -> Vec<Job> {
    let mut refused = Vec::new();
    let mut st = shared.lock();
    if shared.is_stopping() {
        // Their results would not be waited for: give them back before they start.
        return jobs;
    }
    for job in jobs {
        let Some(lease) = job.lease else {
            tracing::error!(id = %job.id, "backend returned a claimed job without a lease; skipped");
            continue;
        };
        let Some(kind) = shared.kind_of(&job.kind) else {
            // Cannot happen: we claim only kinds we handle. Give it back untouched.
            tracing::error!(id = %job.id, kind = %job.kind, "claimed a job with no handler");
            refused.push(job);
            continue;
        };
        let held = Held {
            lease,
            held_until,
            kind,
            attempts: job.attempts,
            run: Run::Waiting,
            started: None,
            cancel: Cancel::default(),
        };
        if let Some(old) = st.held.get(&job.id).map(|h| h.lease) {
            // Claimed again, so the older claim's lease ran out: that run must stop.
            if let Some(Held {
                run: Run::Started,
                cancel,
                ..
            }) = st.remove(&old)
            {
                cancel.fire(CancelReason::LeaseLost);
                cancel.stop();
            }
            Counters::add(&shared.counters.lease_lost, 1);
        }
        st.held.insert(job.id, held);
        st.per_kind[kind] += 1;
        st.waiting.push_back(job);
    }
    let start = shared.take_startable(&mut st);
    drop(st);
    batch::spawn(shared, start);
    refused
}

/// Hands back the waiting jobs of paused kinds: claimed before the pause, they must not
/// start after it.
async fn hand_back_paused(shared: &Shared) {
    let jobs = {
        let mut st = shared.lock();
        if st.paused.is_empty() || st.waiting.is_empty() {
            return;
        }
        st.release_waiting(true, &shared.kinds)
    };
    give_back(shared, jobs).await;
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
    while !shared.is_stopping() && plan(shared).room < target {
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
pub(crate) async fn give_back(shared: &Shared, jobs: Vec<Job>) {
    let settles: Vec<Settle> = jobs
        .iter()
        .filter_map(|job| {
            let kind = shared.kind_of(&job.kind).unwrap_or(usize::MAX);
            Some(Settle {
                lease: job.lease?,
                job: Claimed::of(job, kind),
                outcome: Outcome::Return,
                ran: None,
            })
        })
        .collect();
    stream::iter(&settles)
        .for_each_concurrent(PARALLEL, |s| settle_one(shared, s))
        .await;
}
