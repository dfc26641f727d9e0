//! Runs a case against a fresh backend and the model side by side, comparing every
//! result, then the whole visible state (stats and every job) after each step.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;
use std::time::Duration;

use queue_core::{
    Backend, Completion, Job, JobId, JobState, Lease, LeaseStatus, NewJob, QueueError, Result,
};
use serde_json::json;

use super::ops::{IdChoice, JobSpec, Op, Ref, FILTERS, KEYS, KINDS};
use super::reference::{Expect, MJob, Model};
use crate::support::WAIT;

/// Lease of every ordinary claim: never runs out during a case.
pub const LONG: Duration = Duration::from_secs(3600);

/// Lease of [`Op::ExpireClaim`]: short enough to wait out.
const SHORT: Duration = Duration::from_millis(150);

/// Sleep before each step that sets a job's `scheduled_at` to "now": more than a
/// millisecond, so backends that keep milliseconds (Redis) order such steps as the
/// model does.
const TICK: Duration = Duration::from_millis(2);

/// How a case went: the steps run, each with what it returned, and the first mismatch.
#[derive(Debug, Default)]
pub struct Outcome {
    /// One line per step run.
    pub transcript: Vec<String>,
    /// The first mismatch, if any.
    pub failure: Option<String>,
    /// The step it happened at (`None`: in the final comparison).
    pub failed_at: Option<usize>,
}

/// Returns early from a step with a mismatch.
macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}

/// A case in progress.
struct Run<'a> {
    q: &'a dyn Backend,
    model: Model,
    /// Every lease handed out, in order.
    leases: Vec<Lease>,
    /// Whether `close` was called.
    closed: bool,
}

/// Runs `ops` against `q`, a fresh backend made with [`LONG`] leases and immediate
/// retries.
pub async fn run(q: &dyn Backend, ops: &[Op]) -> Outcome {
    let mut run = Run {
        q,
        model: Model::default(),
        leases: Vec::new(),
        closed: false,
    };
    let mut out = Outcome::default();
    for (step, op) in ops.iter().enumerate() {
        let mut line = format!("{step:>3}: {}", run.describe(op));
        let result = match run.step(step as u64, op).await {
            Ok(said) => run.compare_all().await.map(|()| said),
            Err(e) => Err(e),
        };
        match result {
            Ok(said) => {
                let _ = write!(line, " -> {said}");
                out.transcript.push(line);
            }
            Err(e) => {
                out.transcript.push(line);
                out.failure = Some(format!("step {step}: {e}"));
                out.failed_at = Some(step);
                return out;
            }
        }
    }
    if let Err(e) = run.compare_final().await {
        out.failure = Some(format!("after the last step: {e}"));
    }
    out
}

fn spec_to_job(spec: &JobSpec, id: Option<JobId>, step: u64, n: usize) -> NewJob {
    let mut job = NewJob::new(KINDS[spec.kind], json!({ "step": step, "n": n }))
        .priority(spec.priority)
        .max_attempts(spec.max_attempts);
    if spec.later {
        job = job.delay(LONG);
    }
    match spec.unique {
        Some((k, false)) => job = job.unique(KEYS[k]),
        Some((k, true)) => job = job.unique_for(KEYS[k], LONG),
        None => {}
    }
    if let Some(id) = id {
        job = job.id(id);
    }
    job
}

fn lease_lost(r: &Result<()>, id: JobId) -> bool {
    matches!(r, Err(QueueError::LeaseLost(lost)) if *lost == id)
}

impl Run<'_> {
    /// `J<n>`: the n-th job the model has seen, or the raw id.
    fn name(&self, id: JobId) -> String {
        match self.model.jobs.iter().position(|j| j.id == id) {
            Some(n) => format!("J{n}"),
            None => format!("unknown {id}"),
        }
    }

    fn names(&self, ids: &[JobId]) -> String {
        ids.iter()
            .map(|id| self.name(*id))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn lease(&self, r: Ref) -> Option<(usize, Lease)> {
        r.resolve(self.leases.len()).map(|i| (i, self.leases[i]))
    }

    fn lease_name(&self, r: Ref) -> String {
        match self.lease(r) {
            Some((i, l)) => format!("L{i}({})", self.name(l.id)),
            None => "no lease yet".into(),
        }
    }

    fn job_ref(&self, r: Option<Ref>) -> Option<JobId> {
        r.and_then(|r| r.resolve(self.model.jobs.len()))
            .map(|i| self.model.jobs[i].id)
    }

    fn job_name(&self, r: Option<Ref>) -> String {
        match self.job_ref(r) {
            Some(id) => self.name(id),
            None => "an unknown id".into(),
        }
    }

    /// The step with its references resolved, for the transcript.
    fn describe(&self, op: &Op) -> String {
        let leases = |v: &[Ref]| {
            v.iter()
                .map(|r| self.lease_name(*r))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match op {
            Op::Enqueue(s) => format!("enqueue({s})"),
            Op::EnqueueBatch(v) => format!(
                "enqueue_batch[{}]",
                v.iter()
                    .map(|s| s.to_string())
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            Op::Dequeue { filter, max: 1 } => format!("dequeue({:?})", FILTERS[*filter]),
            Op::Dequeue { filter, max } => {
                format!("dequeue_batch({:?}, {max})", FILTERS[*filter])
            }
            Op::Ack(r) => format!("ack({})", self.lease_name(*r)),
            Op::AckBatch(v) => format!("ack_batch[{}]", leases(v)),
            Op::CompleteBatch(v) => format!(
                "complete_batch[{}]",
                v.iter()
                    .map(|(r, out)| {
                        let with = if *out { " with output" } else { "" };
                        format!("{}{with}", self.lease_name(*r))
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Op::Nack(r) => format!("nack({})", self.lease_name(*r)),
            Op::Discard(r) => format!("discard({})", self.lease_name(*r)),
            Op::Snooze { lease, later } => format!(
                "snooze({}, {})",
                self.lease_name(*lease),
                if *later { "1h" } else { "0" }
            ),
            Op::Heartbeat(v) => format!("heartbeat[{}]", leases(v)),
            Op::Cancel(r) => format!("cancel({})", self.job_name(*r)),
            Op::Replay(r) => format!("replay({})", self.job_name(*r)),
            Op::RunNow(r) => format!("run_now({})", self.job_name(*r)),
            Op::Delete(r) => format!("delete({})", self.job_name(*r)),
            Op::Get(r) => format!("get_job({})", self.job_name(*r)),
            Op::List(Some(s), limit) => format!("list_jobs({s}, {limit})"),
            Op::List(None, limit) => format!("list_jobs(any state, {limit})"),
            Op::Reclaim => "reclaim()".into(),
            Op::ExpireClaim => format!("dequeue([]) with a {SHORT:?} lease, waited out"),
            Op::Close => "close()".into(),
        }
    }

    /// Runs one step and checks what it returned; returns a summary for the transcript.
    async fn step(&mut self, step: u64, op: &Op) -> std::result::Result<String, String> {
        if matches!(
            op,
            Op::Enqueue(_)
                | Op::EnqueueBatch(_)
                | Op::Nack(_)
                | Op::Snooze { .. }
                | Op::Replay(_)
                | Op::RunNow(_)
                | Op::ExpireClaim
        ) {
            tokio::time::sleep(TICK).await;
        }
        let q = self.q;
        match op {
            Op::Enqueue(spec) => self.enqueue(step, std::slice::from_ref(spec), false).await,
            Op::EnqueueBatch(specs) => self.enqueue(step, specs, true).await,
            Op::Dequeue { filter, max } => {
                let kinds = FILTERS[*filter];
                let got = if *max == 1 {
                    q.dequeue(kinds).await.map(|j| j.into_iter().collect())
                } else {
                    q.dequeue_batch(kinds, *max).await
                };
                let got =
                    got.map_err(|e| format!("dequeue failed: {}", queue_core::ErrorChain(&e)))?;
                self.claimed(kinds, *max, got)
            }
            Op::Ack(r) => {
                let Some((_, lease)) = self.lease(*r) else {
                    return Ok("skipped".into());
                };
                let held = self.model.holds(&lease);
                let got = q.ack(&lease).await;
                self.settled(held, &got, lease.id)?;
                if held {
                    self.model.ack(lease.id);
                }
                Ok(format!("{got:?}"))
            }
            Op::AckBatch(refs) => {
                // The same lease twice in one batch has no agreed meaning yet (memory
                // answers Ok then LeaseLost, SQLite Ok twice): each lease once.
                let mut leases: Vec<Lease> = Vec::new();
                for (_, l) in refs.iter().filter_map(|r| self.lease(*r)) {
                    if !leases.contains(&l) {
                        leases.push(l);
                    }
                }
                let got = q.ack_batch(&leases).await.map_err(|e| {
                    format!(
                        "ack_batch failed as a whole: {}",
                        queue_core::ErrorChain(&e)
                    )
                })?;
                ensure!(
                    got.len() == leases.len(),
                    "ack_batch of {} leases returned {} results",
                    leases.len(),
                    got.len()
                );
                for (lease, r) in leases.iter().zip(&got) {
                    let held = self.model.holds(lease);
                    self.settled(held, r, lease.id)?;
                    if held {
                        self.model.ack(lease.id);
                    }
                }
                Ok(format!("{got:?}"))
            }
            Op::CompleteBatch(refs) => {
                // Each lease once, as in AckBatch.
                let mut done: Vec<Completion> = Vec::new();
                let mut outputs: Vec<Option<serde_json::Value>> = Vec::new();
                for (r, with_output) in refs {
                    let Some((_, l)) = self.lease(*r) else {
                        continue;
                    };
                    if done.iter().any(|c| c.lease == l) {
                        continue;
                    }
                    let output = with_output.then(|| json!({"step": step, "n": done.len()}));
                    done.push(match &output {
                        Some(o) => Completion::with_output(l, o).map_err(|e| {
                            format!(
                                "an output did not serialise: {}",
                                queue_core::ErrorChain(&e)
                            )
                        })?,
                        None => Completion::new(l),
                    });
                    outputs.push(output);
                }
                let got = q.complete_batch(&done).await.map_err(|e| {
                    format!(
                        "complete_batch failed as a whole: {}",
                        queue_core::ErrorChain(&e)
                    )
                })?;
                ensure!(
                    got.len() == done.len(),
                    "complete_batch of {} leases returned {} results",
                    done.len(),
                    got.len()
                );
                for ((c, output), r) in done.iter().zip(outputs).zip(&got) {
                    let held = self.model.holds(&c.lease);
                    self.settled(held, r, c.lease.id)?;
                    if held {
                        self.model.complete(c.lease.id, output);
                    }
                }
                Ok(format!("{got:?}"))
            }
            Op::Nack(r) => {
                let Some((_, lease)) = self.lease(*r) else {
                    return Ok("skipped".into());
                };
                let held = self.model.holds(&lease);
                let error = format!("e{step}");
                let got = q.nack(&lease, &error).await;
                self.settled(held, &got, lease.id)?;
                if held {
                    self.model.nack(lease.id, &error, step);
                }
                Ok(format!("{got:?}"))
            }
            Op::Discard(r) => {
                let Some((_, lease)) = self.lease(*r) else {
                    return Ok("skipped".into());
                };
                let held = self.model.holds(&lease);
                let reason = format!("d{step}");
                let got = q.discard(&lease, &reason).await;
                self.settled(held, &got, lease.id)?;
                if held {
                    self.model.discard(lease.id, &reason);
                }
                Ok(format!("{got:?}"))
            }
            Op::Snooze { lease: r, later } => {
                let Some((_, lease)) = self.lease(*r) else {
                    return Ok("skipped".into());
                };
                let held = self.model.holds(&lease);
                let delay = if *later { LONG } else { Duration::ZERO };
                let got = q.snooze(&lease, delay).await;
                self.settled(held, &got, lease.id)?;
                if held {
                    self.model.snooze(lease.id, *later, step);
                }
                Ok(format!("{got:?}"))
            }
            Op::Heartbeat(refs) => {
                let leases: Vec<Lease> = refs
                    .iter()
                    .filter_map(|r| self.lease(*r))
                    .map(|l| l.1)
                    .collect();
                let want: Vec<LeaseStatus> =
                    leases.iter().map(|l| self.model.lease_status(l)).collect();
                let got = q
                    .heartbeat(&leases)
                    .await
                    .map_err(|e| format!("heartbeat failed: {}", queue_core::ErrorChain(&e)))?;
                ensure!(
                    got == want,
                    "heartbeat returned {got:?}, the model says {want:?}"
                );
                Ok(format!("{got:?}"))
            }
            Op::Cancel(r) => {
                let id = self.job_ref(*r).unwrap_or_default();
                let want = self.model.cancel(id);
                let got = q
                    .cancel(id)
                    .await
                    .map_err(|e| format!("cancel failed: {}", queue_core::ErrorChain(&e)))?;
                ensure!(
                    got == want,
                    "cancel returned {got:?}, the model says {want:?}"
                );
                Ok(format!("{got:?}"))
            }
            Op::Replay(r) => {
                let id = self.job_ref(*r).unwrap_or_default();
                let want = self.model.replay(id, step);
                let got = q
                    .replay(id)
                    .await
                    .map_err(|e| format!("replay failed: {}", queue_core::ErrorChain(&e)))?;
                ensure!(got == want, "replay returned {got}, the model says {want}");
                Ok(format!("{got}"))
            }
            Op::RunNow(r) => {
                let id = self.job_ref(*r).unwrap_or_default();
                let want = self.model.run_now(id, step);
                let got = q
                    .run_now(id)
                    .await
                    .map_err(|e| format!("run_now failed: {}", queue_core::ErrorChain(&e)))?;
                ensure!(got == want, "run_now returned {got}, the model says {want}");
                Ok(format!("{got}"))
            }
            Op::Delete(r) => {
                let id = self.job_ref(*r).unwrap_or_default();
                let want = self.model.delete(id);
                let got = q
                    .delete(id)
                    .await
                    .map_err(|e| format!("delete failed: {}", queue_core::ErrorChain(&e)))?;
                ensure!(got == want, "delete returned {got}, the model says {want}");
                Ok(format!("{got}"))
            }
            Op::Get(r) => {
                let id = self.job_ref(*r).unwrap_or_default();
                let got = q
                    .get_job(id)
                    .await
                    .map_err(|e| format!("get_job failed: {}", queue_core::ErrorChain(&e)))?;
                match (self.model.job(id), &got) {
                    (None, None) => Ok("None".into()),
                    (Some(m), Some(j)) => {
                        compare_job(m, j)?;
                        Ok(format!("{}", j.state))
                    }
                    (m, j) => Err(format!(
                        "get_job returned {:?}, the model has {:?}",
                        j.as_ref().map(|j| j.state),
                        m.map(|m| m.state)
                    )),
                }
            }
            Op::List(state, limit) => {
                let got = q
                    .list_jobs(*state, *limit)
                    .await
                    .map_err(|e| format!("list_jobs failed: {}", queue_core::ErrorChain(&e)))?;
                // Newest (highest id) first, at most the limit (0: 100).
                let mut want: Vec<JobId> = self
                    .model
                    .stored()
                    .filter(|j| state.is_none_or(|s| j.state == s))
                    .map(|j| j.id)
                    .collect();
                want.sort_unstable_by(|a, b| b.cmp(a));
                want.truncate(queue_core::list_limit(*limit));
                let ids: Vec<JobId> = got.iter().map(|j| j.id).collect();
                ensure!(
                    ids == want,
                    "list_jobs returned [{}], the model expects [{}]",
                    self.names(&ids),
                    self.names(&want)
                );
                for j in &got {
                    if let Some(m) = self.model.job(j.id) {
                        compare_job(m, j).map_err(|e| format!("{}: {e}", self.name(j.id)))?;
                    }
                }
                Ok(format!("[{}]", self.names(&ids)))
            }
            Op::Reclaim => {
                let got = q
                    .reclaim()
                    .await
                    .map_err(|e| format!("reclaim failed: {}", queue_core::ErrorChain(&e)))?;
                ensure!(
                    got == 0,
                    "reclaim returned {got} while every lease is an hour long"
                );
                Ok("0".into())
            }
            Op::ExpireClaim => self.expire_claim(step).await,
            Op::Close => {
                q.close()
                    .await
                    .map_err(|e| format!("close failed: {}", queue_core::ErrorChain(&e)))?;
                self.closed = true;
                Ok("Ok".into())
            }
        }
    }

    /// Checks a settlement's result against whether the model says the lease holds.
    fn settled(&self, held: bool, got: &Result<()>, id: JobId) -> std::result::Result<(), String> {
        match (held, got) {
            (true, Ok(())) => Ok(()),
            (false, r) if lease_lost(r, id) => Ok(()),
            (true, r) => Err(format!("the lease holds, yet the call returned {r:?}")),
            (false, r) => Err(format!(
                "the lease is stale, so the call must fail with LeaseLost({}); it returned {r:?}",
                self.name(id)
            )),
        }
    }

    async fn enqueue(
        &mut self,
        step: u64,
        specs: &[JobSpec],
        batch: bool,
    ) -> std::result::Result<String, String> {
        let chosen: Vec<(JobSpec, Option<JobId>)> = specs
            .iter()
            .map(|s| {
                let id = match s.id {
                    IdChoice::Backend => None,
                    IdChoice::Fresh => Some(JobId::new()),
                    IdChoice::Reuse(r) => Some(
                        r.resolve(self.model.jobs.len())
                            .map(|i| &self.model.jobs[i])
                            .filter(|j| matches!(j.state, JobState::Pending | JobState::Running))
                            .map(|j| j.id)
                            .unwrap_or_else(JobId::new),
                    ),
                };
                (s.clone(), id)
            })
            .collect();
        let plan = self.model.plan_enqueue(&chosen);
        let jobs: Vec<NewJob> = chosen
            .iter()
            .enumerate()
            .map(|(n, (s, id))| spec_to_job(s, *id, step, n))
            .collect();
        let got = if batch {
            self.q.enqueue_batch(jobs).await
        } else {
            let job = jobs.into_iter().next().ok_or("an enqueue without a job")?;
            self.q.enqueue(job).await.map(|id| vec![id])
        };
        if self.closed {
            return match got {
                Err(QueueError::Closed) => Ok("Closed".into()),
                other => Err(format!(
                    "an enqueue after close must fail with Closed; got {other:?}"
                )),
            };
        }
        let plan = match (plan, got) {
            (None, Err(QueueError::InvalidJob(_))) => return Ok("InvalidJob (id taken)".into()),
            (None, other) => {
                return Err(format!(
                    "an id in use must be refused with InvalidJob; got {other:?}"
                ))
            }
            (Some(_), Err(e)) => {
                return Err(format!("enqueue failed: {}", queue_core::ErrorChain(&e)))
            }
            (Some(plan), Ok(ids)) => (plan, ids),
        };
        let (plan, ids) = plan;
        ensure!(
            ids.len() == plan.len(),
            "{} jobs enqueued, {} ids returned",
            plan.len(),
            ids.len()
        );
        let mut fresh = BTreeSet::new();
        for (i, (want, &got)) in plan.iter().zip(&ids).enumerate() {
            match *want {
                Expect::Holder(h) => ensure!(
                    got == h,
                    "job {i}: its key is held by {}, yet the enqueue returned {}",
                    self.name(h),
                    self.name(got)
                ),
                Expect::SameAs(j) => ensure!(
                    got == ids[j],
                    "job {i}: its key was taken by job {j} of the batch, yet it got another id"
                ),
                Expect::New(Some(mine)) => ensure!(
                    got == mine,
                    "job {i}: the explicit id {mine} was not kept (got {got})"
                ),
                Expect::New(None) => ensure!(
                    !self.model.exists(got) && fresh.insert(got),
                    "job {i}: a new job got the id of another ({})",
                    self.name(got)
                ),
            }
        }
        self.model.apply_enqueue(&chosen, &plan, &ids, step);
        let names: Vec<String> = ids.iter().map(|id| self.name(*id)).collect();
        Ok(names.join(", "))
    }

    /// Checks a claim's jobs against the model and records their leases.
    fn claimed(
        &mut self,
        kinds: &[&str],
        max: usize,
        got: Vec<Job>,
    ) -> std::result::Result<String, String> {
        let want = self.model.expected_claim(kinds, max);
        let got_ids: Vec<JobId> = got.iter().map(|j| j.id).collect();
        ensure!(
            got_ids == want,
            "claimed [{}], the model expects [{}] (best first)",
            self.names(&got_ids),
            self.names(&want)
        );
        let mut names = Vec::new();
        for job in &got {
            let m = self.model.job(job.id).ok_or("claimed an unknown job")?;
            let lease = job
                .lease
                .ok_or_else(|| format!("claimed {} without a lease", self.name(job.id)))?;
            ensure!(lease.id == job.id, "a lease names another job");
            ensure!(
                job.attempts == m.attempts + 1,
                "claimed {} at attempt {}, the model says {}",
                self.name(job.id),
                job.attempts,
                m.attempts + 1
            );
            ensure!(
                job.state == JobState::Running,
                "a claimed job is {}",
                job.state
            );
            ensure!(
                (job.kind.as_str(), job.priority) == (m.kind, m.priority),
                "claimed job has kind {} priority {}",
                job.kind,
                job.priority
            );
            self.model.apply_claim(job.id, lease.token);
            self.leases.push(lease);
            names.push(format!(
                "{} (attempt {}, L{})",
                self.name(job.id),
                job.attempts,
                self.leases.len() - 1
            ));
        }
        Ok(format!("[{}]", names.join(", ")))
    }

    /// A claim with a short lease, waited out: the job must come back (or fail with
    /// "lease expired" when out of attempts) without anyone settling it.
    async fn expire_claim(&mut self, step: u64) -> std::result::Result<String, String> {
        self.q.set_lease_timeout(SHORT);
        let got = self.q.dequeue(&[]).await;
        self.q.set_lease_timeout(LONG);
        let got: Vec<Job> = got
            .map_err(|e| format!("dequeue failed: {}", queue_core::ErrorChain(&e)))?
            .into_iter()
            .collect();
        let Some(lease) = got.first().and_then(|j| j.lease) else {
            return self.claimed(&[], 1, got);
        };
        let said = self.claimed(&[], 1, got)?;
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            self.q
                .reclaim()
                .await
                .map_err(|e| format!("reclaim failed: {}", queue_core::ErrorChain(&e)))?;
            let now = self
                .q
                .get_job(lease.id)
                .await
                .map_err(|e| format!("get_job failed: {}", queue_core::ErrorChain(&e)))?;
            let still = now.is_some_and(|j| {
                j.state == JobState::Running && j.lease.is_none_or(|l| l.token == lease.token)
            });
            if !still {
                break;
            }
            ensure!(
                tokio::time::Instant::now() < deadline,
                "a {SHORT:?} lease was not reclaimed within {WAIT:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.model.expire(lease.id, step);
        Ok(format!("{said}, reclaimed"))
    }

    fn ids_in(&self, state: JobState) -> BTreeSet<JobId> {
        self.model
            .stored()
            .filter(|j| j.state == state)
            .map(|j| j.id)
            .collect()
    }

    /// Stats and every job, after each step.
    async fn compare_all(&self) -> std::result::Result<(), String> {
        let stats = self
            .q
            .stats()
            .await
            .map_err(|e| format!("stats failed: {}", queue_core::ErrorChain(&e)))?;
        let want = self.model.stats();
        ensure!(
            stats == want,
            "stats are {stats:?}, the model says {want:?}"
        );
        let all = self
            .q
            .list_jobs(None, 1000)
            .await
            .map_err(|e| format!("list_jobs failed: {}", queue_core::ErrorChain(&e)))?;
        let by_id: HashMap<JobId, &Job> = all.iter().map(|j| (j.id, j)).collect();
        ensure!(
            by_id.len() == all.len() && all.len() == self.model.stored().count(),
            "list_jobs(None) returned {} jobs, the model has {}",
            all.len(),
            self.model.stored().count()
        );
        for m in self.model.stored() {
            let j = by_id
                .get(&m.id)
                .ok_or_else(|| format!("list_jobs(None) misses {}", self.name(m.id)))?;
            compare_job(m, j).map_err(|e| format!("{}: {e}", self.name(m.id)))?;
        }
        Ok(())
    }

    /// `get_job` of every job and `list_jobs` of every state, at the end of a case.
    async fn compare_final(&self) -> std::result::Result<(), String> {
        for m in &self.model.jobs {
            if m.deleted {
                let got = self
                    .q
                    .get_job(m.id)
                    .await
                    .map_err(|e| format!("get_job failed: {}", queue_core::ErrorChain(&e)))?;
                ensure!(
                    got.is_none(),
                    "get_job({}) found a deleted job",
                    self.name(m.id)
                );
                continue;
            }
            let j = self
                .q
                .get_job(m.id)
                .await
                .map_err(|e| format!("get_job failed: {}", queue_core::ErrorChain(&e)))?
                .ok_or_else(|| format!("get_job({}) is None", self.name(m.id)))?;
            compare_job(m, &j).map_err(|e| format!("{}: {e}", self.name(m.id)))?;
        }
        for state in JobState::ALL {
            let got = self
                .q
                .list_jobs(Some(state), 1000)
                .await
                .map_err(|e| format!("list_jobs failed: {}", queue_core::ErrorChain(&e)))?;
            let ids: BTreeSet<JobId> = got.iter().map(|j| j.id).collect();
            ensure!(
                ids == self.ids_in(state) && ids.len() == got.len(),
                "list_jobs({state}) differs from the model"
            );
        }
        Ok(())
    }
}

/// A stored job against the model's view of it.
fn compare_job(m: &MJob, j: &Job) -> std::result::Result<(), String> {
    ensure!(
        j.state == m.state,
        "state is {}, the model says {}",
        j.state,
        m.state
    );
    ensure!(
        j.attempts == m.attempts,
        "attempts are {}, the model says {}",
        j.attempts,
        m.attempts
    );
    ensure!(
        (j.kind.as_str(), j.priority, j.max_attempts) == (m.kind, m.priority, m.max_attempts),
        "kind/priority/max_attempts are {}/{}/{}, enqueued as {}/{}/{}",
        j.kind,
        j.priority,
        j.max_attempts,
        m.kind,
        m.priority,
        m.max_attempts
    );
    ensure!(
        j.unique_key.as_deref() == m.unique_key,
        "unique key is {:?}, enqueued with {:?}",
        j.unique_key,
        m.unique_key
    );
    ensure!(
        j.cancel_requested == m.cancel_requested,
        "cancel_requested is {}, the model says {}",
        j.cancel_requested,
        m.cancel_requested
    );
    ensure!(
        j.output == m.output,
        "output is {:?}, the model says {:?}",
        j.output,
        m.output
    );
    ensure!(
        j.finished_at.is_some() == m.state.is_final(),
        "finished_at is {:?} on a {} job",
        j.finished_at,
        m.state
    );
    if let Some(lease) = j.lease {
        ensure!(
            m.state == JobState::Running && Some(lease.token) == m.token,
            "shows a lease that is not the current claim's"
        );
    }
    if let Some(want) = &m.last_error {
        ensure!(
            j.last_error == *want,
            "last_error is {:?}, the model says {want:?}",
            j.last_error
        );
    }
    Ok(())
}
