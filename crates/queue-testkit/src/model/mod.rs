//! Model-based tests: random sequences of operations run against a backend and against a
//! reference model of the rules every backend follows, comparing every result and, after
//! every step, the
//! stats and every stored job.
//!
//! Operations: enqueue and enqueue_batch (three kinds, priorities 0–2, due now or in an
//! hour, unique keys with and without a window, explicit ids, ids already in use),
//! dequeue and dequeue_batch with kind filters, ack, ack_batch, complete_batch (with and
//! without outputs), nack, discard, snooze, heartbeat (with current and stale leases
//! alike), cancel, replay, run_now, delete, get_job, list_jobs, reclaim, close, and a
//! claim with a short lease that is waited out. Leases are an hour long
//! and retries immediate, so nothing depends on timing except that one waited-out step;
//! the `reference` module tells how `scheduled_at` order is modelled without a clock.
//!
//! Each case runs on a fresh backend from the factory, which is cleaned up after it
//! ([`Factory::cleanup`] between cases, so a long run holds one namespace at a time).
//! The hand-written [`regressions`] run first, then `QUEUE_MODEL_CASES` random cases
//! (default 40) of `QUEUE_MODEL_OPS` steps (default 30) from the seed
//! `QUEUE_MODEL_SEED` (default: drawn at random, and printed on failure). A failing case
//! is shrunk by dropping steps while it still fails, and reported as a transcript of the
//! smallest failing sequence, with the `Vec<Op>` to paste into [`regressions`].

mod ops;
mod reference;
mod run;

use queue_core::{JobState, RetryPolicy};

pub use ops::{IdChoice, JobSpec, Op, Ref, FILTERS, KEYS, KINDS};
use run::{Outcome, LONG};

use crate::{Factory, Setup};

/// Runs shrinking may spend on one failure.
const SHRINK_BUDGET: usize = 150;

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

fn setup() -> Setup {
    Setup::default().lease(LONG).retry(RetryPolicy::immediate())
}

async fn run_fresh(f: &dyn Factory, ops: &[Op]) -> Outcome {
    let q = f.make(setup()).await;
    let out = run::run(&*q, ops).await;
    drop(q);
    f.cleanup().await;
    out
}

/// Drops steps of a failing case while it still fails.
async fn shrink(f: &dyn Factory, mut ops: Vec<Op>, mut out: Outcome) -> (Vec<Op>, Outcome) {
    if let Some(at) = out.failed_at {
        ops.truncate(at + 1);
    }
    let mut budget = SHRINK_BUDGET;
    let mut chunk = ops.len().div_ceil(2).max(1);
    while budget > 0 {
        let mut progressed = false;
        let mut i = 0;
        while i < ops.len() && budget > 0 {
            let mut candidate = ops.clone();
            candidate.drain(i..(i + chunk).min(ops.len()));
            budget -= 1;
            let tried = run_fresh(f, &candidate).await;
            if tried.failure.is_some() {
                ops = candidate;
                out = tried;
                if let Some(at) = out.failed_at {
                    ops.truncate(at + 1);
                }
                progressed = true;
            } else {
                i += chunk;
            }
        }
        if chunk == 1 && !progressed {
            break;
        }
        chunk = (chunk / 2).max(1);
    }
    (ops, out)
}

fn report(what: &str, ops: &[Op], out: &Outcome) -> String {
    format!(
        "{what}\n{}\n\nsteps:\n{}\n\nas a regression case:\n{ops:#?}",
        out.failure.as_deref().unwrap_or("no failure"),
        out.transcript.join("\n"),
    )
}

/// The regression cases and random cases described in the module docs all match the
/// model.
pub async fn operations_match_reference(f: &dyn Factory) {
    for (name, ops) in regressions() {
        let out = run_fresh(f, &ops).await;
        if out.failure.is_some() {
            panic!(
                "{}",
                report(&format!("regression case {name:?}"), &ops, &out)
            );
        }
    }
    let cases = env_u64("QUEUE_MODEL_CASES").unwrap_or(40);
    let len = env_u64("QUEUE_MODEL_OPS").unwrap_or(30) as usize;
    let seed = env_u64("QUEUE_MODEL_SEED").unwrap_or_else(|| fastrand::u64(..));
    for case in 0..cases {
        let case_seed = seed.wrapping_add(case);
        let ops = ops::Gen::new(case_seed, true).case(len);
        let out = run_fresh(f, &ops).await;
        if out.failure.is_some() {
            let (ops, out) = shrink(f, ops, out).await;
            panic!(
                "{}",
                report(
                    &format!(
                        "random case {case} differs from the model \
                         (rerun it with QUEUE_MODEL_SEED={case_seed} QUEUE_MODEL_CASES=1 \
                         QUEUE_MODEL_OPS={len}); shrunk to {} steps:",
                        ops.len()
                    ),
                    &ops,
                    &out
                )
            );
        }
    }
}

/// A job of kind `KINDS[kind]`, priority 0, due now, three attempts, no key.
fn job(kind: usize) -> JobSpec {
    JobSpec {
        kind,
        priority: 0,
        max_attempts: 0,
        later: false,
        unique: None,
        id: IdChoice::Backend,
    }
}

/// Failures found so far, and paths worth running on every backend every time; each
/// runs on a fresh backend before the random cases.
pub fn regressions() -> Vec<(&'static str, Vec<Op>)> {
    use Op::*;
    let last = Ref::Last(0);
    vec![
        (
            "outputs stored with completions, stale ones changing nothing",
            vec![
                EnqueueBatch(vec![job(0), job(1), job(2)]),
                Dequeue { filter: 0, max: 3 },
                CompleteBatch(vec![(Ref::Nth(0), true), (Ref::Nth(1), false)]),
                CompleteBatch(vec![(Ref::Nth(0), true), (Ref::Nth(2), true)]),
                Get(Some(Ref::Nth(0))),
                List(Some(JobState::Completed), 0),
                List(None, 0),
            ],
        ),
        (
            "stale settlements after a nack and a new claim",
            vec![
                Enqueue(JobSpec {
                    max_attempts: 2,
                    ..job(0)
                }),
                Dequeue { filter: 0, max: 1 },
                Nack(last),
                Dequeue { filter: 0, max: 1 },
                Ack(Ref::Nth(0)),
                Nack(Ref::Nth(0)),
                Heartbeat(vec![Ref::Nth(0), Ref::Nth(1)]),
                AckBatch(vec![Ref::Nth(0), Ref::Nth(1)]),
                Nack(Ref::Nth(1)),
            ],
        ),
        (
            "priority, then scheduled_at, then id",
            vec![
                EnqueueBatch(vec![job(0), job(1), job(2)]),
                Enqueue(JobSpec {
                    priority: 2,
                    ..job(1)
                }),
                Enqueue(JobSpec {
                    id: IdChoice::Fresh,
                    ..job(2)
                }),
                Dequeue { filter: 2, max: 3 },
                Nack(Ref::Nth(0)),
                Dequeue { filter: 0, max: 3 },
                Snooze {
                    lease: last,
                    later: false,
                },
                Dequeue { filter: 0, max: 3 },
            ],
        ),
        (
            "replay re-takes a free unique key",
            vec![
                Enqueue(JobSpec {
                    max_attempts: 1,
                    unique: Some((0, false)),
                    ..job(0)
                }),
                Dequeue { filter: 0, max: 1 },
                Nack(last),
                Replay(Some(last)),
                Enqueue(JobSpec {
                    unique: Some((0, false)),
                    ..job(0)
                }),
            ],
        ),
        (
            "a windowed key outlives its job; a key without one does not",
            vec![
                EnqueueBatch(vec![
                    JobSpec {
                        unique: Some((1, true)),
                        ..job(0)
                    },
                    JobSpec {
                        unique: Some((1, true)),
                        ..job(1)
                    },
                    JobSpec {
                        unique: Some((2, false)),
                        ..job(1)
                    },
                ]),
                Dequeue { filter: 0, max: 3 },
                AckBatch(vec![Ref::Nth(0), Ref::Nth(1)]),
                Enqueue(JobSpec {
                    unique: Some((1, true)),
                    ..job(2)
                }),
                Enqueue(JobSpec {
                    unique: Some((2, false)),
                    ..job(2)
                }),
                Cancel(Some(last)),
                Cancel(Some(last)),
            ],
        ),
        (
            "an id in use is refused, a delayed job waits, a short lease runs out",
            vec![
                Enqueue(JobSpec {
                    later: true,
                    ..job(0)
                }),
                Enqueue(JobSpec {
                    id: IdChoice::Reuse(last),
                    ..job(1)
                }),
                EnqueueBatch(vec![
                    job(1),
                    JobSpec {
                        id: IdChoice::Reuse(Ref::Nth(0)),
                        ..job(1)
                    },
                ]),
                Enqueue(JobSpec {
                    max_attempts: 1,
                    ..job(2)
                }),
                ExpireClaim,
                Ack(last),
                Replay(Some(last)),
                Reclaim,
                Dequeue { filter: 0, max: 3 },
            ],
        ),
        (
            "run_now makes a held-back job due; delete takes finished jobs and their keys",
            vec![
                Enqueue(JobSpec {
                    later: true,
                    ..job(0)
                }),
                Enqueue(JobSpec {
                    priority: 1,
                    ..job(0)
                }),
                RunNow(Some(Ref::Nth(0))),
                RunNow(Some(Ref::Nth(0))),
                RunNow(Some(Ref::Nth(1))),
                Delete(Some(Ref::Nth(0))),
                Dequeue { filter: 0, max: 3 },
                RunNow(Some(Ref::Nth(0))),
                Enqueue(JobSpec {
                    unique: Some((0, true)),
                    ..job(1)
                }),
                Cancel(Some(last)),
                Delete(Some(last)),
                Delete(Some(Ref::Nth(2))),
                Enqueue(JobSpec {
                    unique: Some((0, true)),
                    ..job(1)
                }),
                AckBatch(vec![Ref::Nth(0), Ref::Nth(1)]),
                Delete(Some(Ref::Nth(0))),
                Delete(None),
                Replay(Some(Ref::Nth(0))),
                Get(Some(Ref::Nth(0))),
            ],
        ),
        (
            "after close no enqueue is stored; claims and settlements go on",
            vec![
                EnqueueBatch(vec![
                    job(0),
                    JobSpec {
                        max_attempts: 1,
                        ..job(1)
                    },
                ]),
                Dequeue { filter: 0, max: 1 },
                Close,
                Enqueue(job(2)),
                EnqueueBatch(vec![job(2), job(2)]),
                Nack(last),
                Dequeue { filter: 0, max: 3 },
                Ack(last),
                Discard(Ref::Nth(1)),
                Close,
            ],
        ),
    ]
}
