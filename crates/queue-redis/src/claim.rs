//! Claiming: one script call per up to 1,000 jobs picks the best jobs across the
//! requested kinds' ready sets, counts the attempt and grants the lease.

use queue_core::{ClaimToken, Job, Result};

use crate::decode::{fields, job, string};
use crate::queue::Inner;
use crate::settle;

/// Jobs claimed per script call.
const CHUNK: usize = 1_000;

/// Claims up to `max` jobs of `kinds` (any kind when empty), best first.
pub(crate) async fn claim(q: &Inner, kinds: &[&str], max: usize) -> Result<Vec<Job>> {
    let keys = q.keys.with_ready(kinds);
    let mut out = Vec::new();
    while out.len() < max {
        let want = (max - out.len()).min(CHUNK);
        let got = claim_chunk(q, keys.clone(), want, &mut out).await?;
        if got < want {
            break;
        }
    }
    Ok(out)
}

/// One script call; returns how many jobs it claimed (including any set aside after
/// decoding failed, so the caller's loop still ends).
async fn claim_chunk(
    q: &Inner,
    keys: Vec<String>,
    want: usize,
    out: &mut Vec<Job>,
) -> Result<usize> {
    let tokens: Vec<ClaimToken> = (0..want).map(|_| ClaimToken::random()).collect();
    let mut args = Vec::with_capacity(3 + want);
    args.push(want.to_string());
    args.push(
        q.lease_ms
            .load(std::sync::atomic::Ordering::Relaxed)
            .to_string(),
    );
    args.push(q.keep_failed.to_string());
    args.extend(tokens.iter().map(|t| t.0.to_string()));
    let reply = q.scripts.claim.run(&q.pool, keys, args).await?.into_array();
    let mut parts = reply.into_iter();
    let claimed = parts.next().map(|v| v.into_array()).unwrap_or_default();
    let aside = parts.next().map(|v| v.into_array()).unwrap_or_default();
    let reasons = parts.next().map(|v| v.into_array()).unwrap_or_default();
    for (id, reason) in aside.iter().zip(
        reasons
            .iter()
            .chain(std::iter::repeat(&fred::prelude::Value::Null)),
    ) {
        tracing::error!(
            queue = %q.name,
            id = %string(id),
            reason = %string(reason),
            "set aside a corrupt job as failed"
        );
    }
    let n = claimed.len();
    for (raw, token) in claimed.into_iter().zip(tokens) {
        let f = fields(raw);
        match job(&f) {
            Ok(j) => out.push(j),
            Err(reason) => {
                let id = f.get("id").cloned().unwrap_or_default();
                tracing::error!(queue = %q.name, id = %id, reason = %reason, "claimed a job that cannot be decoded; setting it aside as failed");
                settle::set_aside(q, &id, token, &reason).await;
            }
        }
    }
    Ok(n)
}
