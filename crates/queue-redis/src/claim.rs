//! Claiming: one script call per up to 1,000 jobs picks the best jobs across the
//! requested kinds' ready sets, counts the attempt and grants the lease.

use fred::prelude::Value;
use queue_core::{ClaimToken, Job, Result};

use crate::decode::{int, job, string, text, Source};
use crate::queue::Inner;
use crate::settle;

/// Jobs claimed per script call.
const CHUNK: usize = 1_000;
/// Script calls one claim makes at most beyond those its size needs: each one replaces
/// jobs set aside as corrupt, or goes on past 1,000 stale or corrupt ready entries, so
/// that a claim comes back short only when no more work is ready (or behind more than
/// 100,000 broken entries, which the next claim goes on setting aside).
const EXTRA_ROUNDS: usize = 100;

/// Claims up to `max` jobs of `kinds` (any kind when empty), best first.
pub(crate) async fn claim(q: &Inner, kinds: &[&str], max: usize) -> Result<Vec<Job>> {
    let keys = q.keys.with_ready(kinds);
    let mut out = Vec::new();
    let mut rounds = max.div_ceil(CHUNK) + EXTRA_ROUNDS;
    while out.len() < max && rounds > 0 {
        rounds -= 1;
        let want = (max - out.len()).min(CHUNK);
        let round = claim_chunk(q, keys.clone(), want, &mut out).await?;
        if round.claimed < want && !round.more {
            break;
        }
    }
    Ok(out)
}

/// The fields of a claimed job's row in the claim script's reply, in order; its state is
/// `running`.
const CLAIMED_FIELDS: [&str; 13] = [
    "id",
    "kind",
    "payload",
    "priority",
    "attempts",
    "max_attempts",
    "created_at",
    "scheduled_at",
    "unique_key",
    "last_error",
    "token",
    "lease_expires_at",
    "concurrency_key",
];

/// One claimed job as the script returns it.
struct Row(Vec<Value>);

impl Source for Row {
    fn field(&self, name: &str) -> Option<&str> {
        if name == "state" {
            return Some("running");
        }
        let at = CLAIMED_FIELDS.iter().position(|f| *f == name)?;
        self.0.get(at).and_then(text)
    }
}

/// What one script call did.
struct Round {
    /// Jobs claimed, including any set aside after decoding failed.
    claimed: usize,
    /// The script stopped early, after skipping its limit of stale or corrupt entries.
    more: bool,
}

/// One script call, adding the jobs that decode to `out`.
async fn claim_chunk(
    q: &Inner,
    keys: Vec<String>,
    want: usize,
    out: &mut Vec<Job>,
) -> Result<Round> {
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
    let reply = q
        .scripts
        .claim
        .run(q.conns.claim(), keys, args)
        .await?
        .into_array();
    let mut parts = reply.into_iter();
    let claimed = parts.next().map(|v| v.into_array()).unwrap_or_default();
    let aside = parts.next().map(|v| v.into_array()).unwrap_or_default();
    let reasons = parts.next().map(|v| v.into_array()).unwrap_or_default();
    let more = parts.next().is_some_and(|v| int(&v) == 1);
    for (id, reason) in aside
        .iter()
        .zip(reasons.iter().chain(std::iter::repeat(&Value::Null)))
    {
        tracing::error!(
            queue = %q.name,
            id = %string(id),
            reason = %string(reason),
            "set aside a corrupt job as failed"
        );
    }
    let n = claimed.len();
    for (raw, token) in claimed.into_iter().zip(tokens) {
        let row = Row(raw.into_array());
        match job(&row) {
            Ok(j) => out.push(j),
            Err(reason) => {
                let id = row.field("id").unwrap_or_default().to_string();
                tracing::error!(queue = %q.name, id = %id, reason = %reason, "claimed a job that cannot be decoded; setting it aside as failed");
                settle::set_aside(q, &id, token, &reason).await;
            }
        }
    }
    Ok(Round { claimed: n, more })
}
