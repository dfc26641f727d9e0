//! A limit as every SQL dialect stores it: six nullable integers, in this order:
//! concurrency, key concurrency, rate count, rate window (ms), key rate count, key rate
//! window (ms). A NULL part limits nothing.

use std::time::Duration;

use queue_core::{validate_kind, Limit, QueueError, Rate, Result};

/// The stored parts of a limit, in the order above.
pub(crate) type Columns = [Option<i64>; 6];

/// The columns to store for `kind`'s `limit`, to bind in that order, once both are
/// checked as every backend checks them (a bad kind or limit stores nothing).
pub(crate) fn checked(kind: &str, limit: &Limit) -> Result<Columns> {
    validate_kind(kind)?;
    limit.check()?;
    Ok(columns(limit))
}

/// The columns of `limit`.
fn columns(limit: &Limit) -> Columns {
    let count = |n: Option<u32>| n.map(i64::from);
    let ms = |r: Option<Rate>| r.map(|r| i64::try_from(r.period_ms()).unwrap_or(i64::MAX));
    [
        count(limit.concurrency),
        count(limit.key_concurrency),
        count(limit.rate.map(|r| r.count)),
        ms(limit.rate),
        count(limit.key_rate.map(|r| r.count)),
        ms(limit.key_rate),
    ]
}

/// The limit of `kind` back from its columns. A value no version writes (a count out of
/// range, a rate without its window) is a corrupt row, reported as such.
// MySQL reads its columns typed, with sqlx.
#[cfg_attr(not(any(feature = "postgres", feature = "sqlite")), allow(dead_code))]
pub(crate) fn limit(kind: &str, [c, kc, rc, rms, krc, krms]: Columns) -> Result<Limit> {
    let bad = |what: String| QueueError::Corrupt {
        id: None,
        reason: format!("limit of kind {kind:?}: {what}"),
    };
    let count = |n: Option<i64>| -> Result<Option<u32>> {
        n.map(|n| u32::try_from(n).map_err(|_| bad(format!("count {n}"))))
            .transpose()
    };
    let rate = |n: Option<i64>, ms: Option<i64>| -> Result<Option<Rate>> {
        match (count(n)?, ms) {
            (None, None) => Ok(None),
            (Some(count), Some(ms)) => {
                let ms = u64::try_from(ms).map_err(|_| bad(format!("window {ms} ms")))?;
                Ok(Some(Rate {
                    count,
                    period: Duration::from_millis(ms),
                }))
            }
            _ => Err(bad("a rate without its count or window".into())),
        }
    };
    Ok(Limit {
        concurrency: count(c)?,
        key_concurrency: count(kc)?,
        rate: rate(rc, rms)?,
        key_rate: rate(krc, krms)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_round_trip_through_their_columns() {
        for l in [
            Limit::concurrency(4),
            Limit::per_key(1).with_rate(100, Duration::from_secs(60)),
            Limit::rate_per_key(3, Duration::from_millis(1500)).with_concurrency(u32::MAX),
        ] {
            assert_eq!(limit("k", columns(&l)).ok(), Some(l));
        }
        assert!(limit("k", [Some(-1), None, None, None, None, None]).is_err());
        assert!(limit("k", [None, None, Some(5), None, None, None]).is_err());
    }
}
