//! Settling claimed jobs (ack, nack, discard, snooze, heartbeat), all guarded by the
//! claim token, plus cancel and replay.

use std::time::Duration;

use queue_core::{
    CancelOutcome, CheckedCompletions, ClaimToken, Completion, JobId, Lease, LeaseStatus,
    QueueError, Result, RetryPolicy, MAX_DELAY,
};

use crate::builder::duration_ms;
use crate::decode::int;
use crate::queue::Inner;

/// Leases per script call of the batch forms.
const CHUNK: usize = 1_000;
/// Bytes of output per call of the completion script, beyond which a chunk ends early:
/// a thousand outputs at the limit would make one call of tens of megabytes.
const CHUNK_OUTPUT_BYTES: usize = 4 * 1024 * 1024;

/// `ARGV` tail of (id, token) pairs.
fn pairs(leases: &[Lease], out: &mut Vec<String>) {
    for l in leases {
        out.push(l.id.to_string());
        out.push(l.token.0.to_string());
    }
}

/// Maps a script's 1/0 reply to `Ok` / `LeaseLost`.
fn held(reply: i64, id: JobId) -> Result<()> {
    if reply == 1 {
        Ok(())
    } else {
        Err(QueueError::LeaseLost(id))
    }
}

pub(crate) async fn ack(q: &Inner, leases: &[Lease]) -> Result<Vec<Result<()>>> {
    let mut out = Vec::with_capacity(leases.len());
    for chunk in leases.chunks(CHUNK) {
        let mut args = vec![q.keep_completed.to_string()];
        pairs(chunk, &mut args);
        let reply = q
            .scripts
            .ack
            .run(q.conns.settle(), q.keys.common(), args)
            .await?;
        let flags = reply.into_array();
        for (i, l) in chunk.iter().enumerate() {
            out.push(held(flags.get(i).map_or(0, int), l.id));
        }
    }
    Ok(out)
}

/// Completes with outputs; a batch without any is an ack.
pub(crate) async fn complete(q: &Inner, done: &[Completion]) -> Result<Vec<Result<()>>> {
    let checked = CheckedCompletions::new(done, q.max_output);
    if !checked.any_output() {
        let written = ack(q, &checked.leases).await?;
        return Ok(checked.merge(written));
    }
    let mut written = Vec::with_capacity(checked.leases.len());
    let mut start = 0;
    while start < checked.leases.len() {
        let mut args = vec![q.keep_completed.to_string()];
        let mut bytes = 0;
        let mut end = start;
        while end < checked.leases.len()
            && end - start < CHUNK
            && (end == start || bytes < CHUNK_OUTPUT_BYTES)
        {
            let (l, output) = (&checked.leases[end], checked.outputs[end]);
            bytes += output.map_or(0, str::len);
            args.push(l.id.to_string());
            args.push(l.token.0.to_string());
            args.push(output.unwrap_or_default().to_string());
            end += 1;
        }
        let reply = q
            .scripts
            .complete
            .run(q.conns.settle(), q.keys.common(), args)
            .await?;
        let flags = reply.into_array();
        for (i, l) in checked.leases[start..end].iter().enumerate() {
            written.push(held(flags.get(i).map_or(0, int), l.id));
        }
        start = end;
    }
    Ok(checked.merge(written))
}

/// The backoff arguments of the nack script: base and cap in ms (-1: no cap) and the
/// jitter factor in (0, 1], drawn from `random` in [0, 1). Always finite numbers: the
/// policy is validated by queue-core, and a `Duration` in ms is at most about 1.8e22.
fn backoff_args(p: &RetryPolicy, random: f64) -> [String; 3] {
    let cap = if p.max().is_zero() {
        -1.0
    } else {
        p.max().as_secs_f64() * 1000.0
    };
    let factor = 1.0 - p.jitter_fraction() * random;
    [
        (p.base().as_secs_f64() * 1000.0).to_string(),
        cap.to_string(),
        factor.to_string(),
    ]
}

pub(crate) async fn nack(q: &Inner, lease: &Lease, error: &str) -> Result<()> {
    let mut args = vec![
        lease.id.to_string(),
        lease.token.0.to_string(),
        error.to_string(),
    ];
    args.extend(backoff_args(&q.retry, fastrand::f64()));
    args.push(q.keep_failed.to_string());
    args.push(q.keep_completed.to_string());
    let reply = q
        .scripts
        .nack
        .run(q.conns.settle(), q.keys.common(), args)
        .await?;
    held(int(&reply), lease.id)
}

pub(crate) async fn discard(q: &Inner, lease: &Lease, reason: &str) -> Result<()> {
    let reply = run_discard(q, &lease.id.to_string(), lease.token, reason).await?;
    held(reply, lease.id)
}

async fn run_discard(q: &Inner, id: &str, token: ClaimToken, reason: &str) -> Result<i64> {
    let args = vec![
        id.to_string(),
        token.0.to_string(),
        reason.to_string(),
        q.keep_failed.to_string(),
        q.keep_completed.to_string(),
    ];
    let reply = q
        .scripts
        .discard
        .run(q.conns.settle(), q.keys.common(), args)
        .await?;
    Ok(int(&reply))
}

/// Fails a claimed job whose body could not be decoded, with the reason. Errors are
/// logged: the lease then simply runs out and the reclaimer sees the job again.
pub(crate) async fn set_aside(q: &Inner, id: &str, token: ClaimToken, reason: &str) {
    if let Err(e) = run_discard(q, id, token, &format!("corrupt job: {reason}")).await {
        tracing::error!(queue = %q.name, id, error = %queue_core::ErrorChain(&e), "could not set the corrupt job aside");
    }
}

/// Snoozes for `delay`, cut to [`MAX_DELAY`] (the script cuts it too).
pub(crate) async fn snooze(q: &Inner, lease: &Lease, delay: Duration) -> Result<()> {
    let args = vec![
        lease.id.to_string(),
        lease.token.0.to_string(),
        duration_ms(delay.min(MAX_DELAY)).to_string(),
        q.keep_failed.to_string(),
        q.keep_completed.to_string(),
    ];
    let reply = q
        .scripts
        .snooze
        .run(q.conns.settle(), q.keys.common(), args)
        .await?;
    held(int(&reply), lease.id)?;
    if delay.is_zero() {
        q.notifier.notify();
    }
    Ok(())
}

pub(crate) async fn heartbeat(q: &Inner, leases: &[Lease]) -> Result<Vec<LeaseStatus>> {
    let mut out = Vec::with_capacity(leases.len());
    for chunk in leases.chunks(CHUNK) {
        let mut args = vec![q.lease().as_millis().max(1).to_string()];
        pairs(chunk, &mut args);
        let reply = q
            .scripts
            .heartbeat
            .run(q.conns.settle(), q.keys.common(), args)
            .await?;
        let flags = reply.into_array();
        out.extend((0..chunk.len()).map(|i| match flags.get(i).map_or(0, int) {
            1 => LeaseStatus::Held,
            2 => LeaseStatus::CancelRequested,
            _ => LeaseStatus::Lost,
        }));
    }
    Ok(out)
}

/// Cancels a pending job, or records a cancel request on a running one (the script
/// publishes it for the worker holding the job).
pub(crate) async fn cancel(q: &Inner, id: JobId) -> Result<CancelOutcome> {
    let args = vec![id.to_string(), q.keep_completed.to_string()];
    let reply = q
        .scripts
        .cancel
        .run(q.conns.settle(), q.keys.common(), args)
        .await?;
    Ok(match int(&reply) {
        1 => CancelOutcome::Cancelled,
        2 => CancelOutcome::Requested,
        _ => CancelOutcome::Unchanged,
    })
}

pub(crate) async fn replay(q: &Inner, id: JobId) -> Result<bool> {
    let reply = q
        .scripts
        .replay
        .run(q.conns.settle(), q.keys.common(), vec![id.to_string()])
        .await?;
    let done = int(&reply) == 1;
    if done {
        q.notifier.notify();
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every policy the API can build, including the extremes (no cap, zero base, the
    /// longest durations, full jitter), gives the script finite numbers.
    #[test]
    fn backoff_args_are_always_finite() {
        let durations = [
            Duration::ZERO,
            Duration::from_nanos(1),
            Duration::from_secs(1),
            Duration::MAX,
        ];
        for base in durations {
            for max in durations {
                for jitter in [0.0, 0.5, 1.0, f64::NAN, f64::INFINITY] {
                    let p = RetryPolicy::exponential(base, max).jitter(jitter);
                    for random in [0.0, 0.5, 0.999_999] {
                        let args = backoff_args(&p, random);
                        let n: Vec<f64> =
                            args.iter().map(|a| a.parse().unwrap_or(f64::NAN)).collect();
                        assert!(n.iter().all(|x| x.is_finite()), "{p:?}: {args:?}");
                        assert!(n[0] >= 0.0 && (n[1] >= 0.0 || n[1] == -1.0), "{args:?}");
                        assert!(n[2] > 0.0 && n[2] <= 1.0, "{p:?}: {args:?}");
                    }
                }
            }
        }
    }
}
