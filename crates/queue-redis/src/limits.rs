//! Limits per kind (`Queue::set_limit`): a hash per queue (`{name}:limits`) that the claim
//! script reads once per call. The claim counts running jobs from the lease set and
//! recent starts from a sorted set per rated kind or key (see `scripts/lib.lua`).

use std::collections::BTreeMap;
use std::time::Duration;

use fred::prelude::{HashesInterface, Value};
use queue_core::{validate_kind, Limit, LimitStats, QueueError, Rate, Result};

use crate::decode::{int, string};
use crate::queue::Inner;

/// A limit as the scripts store it: "c|kc|rc|rms|krc|krms", empty parts unset.
fn encode(limit: &Limit) -> String {
    let n = |v: Option<u32>| v.map(|n| n.to_string()).unwrap_or_default();
    let rate = |r: Option<Rate>| match r {
        Some(r) => (r.count.to_string(), r.period_ms().to_string()),
        None => (String::new(), String::new()),
    };
    let (rc, rms) = rate(limit.rate);
    let (krc, krms) = rate(limit.key_rate);
    format!(
        "{}|{}|{rc}|{rms}|{krc}|{krms}",
        n(limit.concurrency),
        n(limit.key_concurrency)
    )
}

/// The stored form back; a part that does not read is a corrupt hash, reported.
fn decode(kind: &str, s: &str) -> Result<Limit> {
    let bad = || QueueError::Corrupt {
        id: None,
        reason: format!("limit of kind {kind:?} reads {s:?}"),
    };
    let parts: Vec<Option<u64>> = s
        .split('|')
        .map(|p| {
            if p.is_empty() {
                Ok(None)
            } else {
                p.parse().map(Some)
            }
        })
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| bad())?;
    let [c, kc, rc, rms, krc, krms] = parts[..] else {
        return Err(bad());
    };
    let count = |v: Option<u64>| v.map(u32::try_from).transpose().map_err(|_| bad());
    let rate = |c: Option<u64>, ms: Option<u64>| -> Result<Option<Rate>> {
        match (count(c)?, ms) {
            (Some(count), Some(ms)) => Ok(Some(Rate {
                count,
                period: Duration::from_millis(ms),
            })),
            (None, None) => Ok(None),
            _ => Err(bad()),
        }
    };
    Ok(Limit {
        concurrency: count(c)?,
        key_concurrency: count(kc)?,
        rate: rate(rc, rms)?,
        key_rate: rate(krc, krms)?,
    })
}

/// Stores `limit` for `kind` (replacing any) and wakes idle workers everywhere.
pub(crate) async fn set(q: &Inner, kind: &str, limit: &Limit) -> Result<()> {
    validate_kind(kind)?;
    limit.check()?;
    run(q, kind, encode(limit)).await
}

/// Removes the limit of `kind`, if any, and wakes idle workers everywhere.
pub(crate) async fn clear(q: &Inner, kind: &str) -> Result<()> {
    validate_kind(kind)?;
    run(q, kind, String::new()).await
}

async fn run(q: &Inner, kind: &str, encoded: String) -> Result<()> {
    q.scripts
        .set_limit
        .run(
            q.conns.other(),
            q.keys.common(),
            vec![kind.to_owned(), encoded],
        )
        .await?;
    Ok(())
}

/// The stored limits, by kind.
pub(crate) async fn all(q: &Inner) -> Result<BTreeMap<String, Limit>> {
    let stored: BTreeMap<String, String> = q
        .conns
        .other()
        .hgetall(q.keys.limits())
        .await
        .map_err(QueueError::backend)?;
    stored
        .iter()
        .map(|(kind, s)| Ok((kind.clone(), decode(kind, s)?)))
        .collect()
}

/// The limited kinds with their running and held-back jobs, sorted by kind.
pub(crate) async fn stats(q: &Inner) -> Result<Vec<LimitStats>> {
    let reply = q
        .scripts
        .limit_stats
        .run(q.conns.other(), q.keys.common(), Vec::new())
        .await?
        .into_array();
    let mut out = Vec::with_capacity(reply.len() / 4);
    for row in reply.chunks(4) {
        let [kind, limit, running, waiting] = row else {
            return Err(QueueError::Backend(
                format!("limit stats script answered {reply:?}").into(),
            ));
        };
        let kind = string(kind);
        let count = |v: &Value| u64::try_from(int(v)).unwrap_or(0);
        out.push(LimitStats {
            limit: decode(&kind, &string(limit))?,
            kind,
            running: count(running),
            waiting: count(waiting),
        });
    }
    out.sort_by(|a, b| a.kind.cmp(&b.kind));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_round_trip_through_the_stored_form() {
        for limit in [
            Limit::concurrency(4),
            Limit::per_key(1).with_rate(100, Duration::from_secs(60)),
            Limit::rate_per_key(3, Duration::from_millis(1500)).with_concurrency(9),
        ] {
            assert_eq!(decode("k", &encode(&limit)).ok(), Some(limit));
        }
        assert!(decode("k", "1|2").is_err());
        assert!(decode("k", "x|||||").is_err());
        assert!(decode("k", "|||5||").is_err(), "a rate without its window");
    }
}
