//! Settling claims: ack and heartbeat in one statement per batch, nack, discard and
//! snooze in one guarded statement each. Every statement checks the claim token, so a
//! stale worker changes nothing and learns that its lease was lost.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use queue_core::{
    CheckedCompletions, Completion, JobId, Lease, LeaseStatus, QueueError, Result, MAX_DELAY,
};

use super::busy::retry_busy;
use super::row::{db_err, duration_us, now_us};
use super::SqliteQueue;
use crate::text::stored_error;

/// The longest retry delay (100 years in µs): keeps `now + delay` a valid stored time
/// whatever the policy's base and cap.
const MAX_DELAY_US: i64 = 100 * 365 * 24 * 3600 * 1_000_000;

/// A statement with its leading values and its lease guard bound.
type Query<'q> = sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>;

/// The distinct (id, token) pairs of a batch of leases, split into rounds in which no id
/// appears twice. RETURNING gives only the updated row's new values, so the id alone
/// must tell which pair matched; a batch rarely holds one id twice (a stale lease next
/// to a fresh one), and then it takes one more statement.
struct Rounds {
    /// Distinct pairs, in first-seen order.
    pairs: Vec<(JobId, i64)>,
    /// For each lease, its pair.
    of_lease: Vec<usize>,
    /// Pair indexes per statement.
    rounds: Vec<Vec<usize>>,
}

impl Rounds {
    /// Splits `leases`.
    fn new(leases: &[Lease]) -> Rounds {
        let mut index: HashMap<(JobId, i64), usize> = HashMap::new();
        let mut seen_ids: HashMap<JobId, usize> = HashMap::new();
        let mut pairs = Vec::new();
        let mut rounds: Vec<Vec<usize>> = Vec::new();
        let of_lease = leases
            .iter()
            .map(|l| {
                let pair = (l.id, l.token.0);
                *index.entry(pair).or_insert_with(|| {
                    let i = pairs.len();
                    pairs.push(pair);
                    let round = seen_ids.entry(l.id).or_insert(0);
                    if rounds.len() <= *round {
                        rounds.push(Vec::new());
                    }
                    rounds[*round].push(i);
                    *round += 1;
                    i
                })
            })
            .collect();
        Rounds {
            pairs,
            of_lease,
            rounds,
        }
    }

    /// The `[[id, token], …]` JSON of one round.
    fn json(&self, round: &[usize]) -> String {
        let pairs: Vec<(String, i64)> = round
            .iter()
            .map(|&i| (self.pairs[i].0.to_string(), self.pairs[i].1))
            .collect();
        // A Vec of (String, i64) always serialises.
        serde_json::to_string(&pairs).unwrap_or_else(|_| "[]".into())
    }

    /// The JSON of one round with outputs (one per lease, JSON text): `[id, token]` per
    /// pair, `[id, token, output]` when it has one. A pair given twice takes the output
    /// of its first lease.
    fn json_with_outputs(&self, round: &[usize], outputs: &[Option<&str>]) -> String {
        let mut of_pair: Vec<Option<&str>> = vec![None; self.pairs.len()];
        let mut seen = vec![false; self.pairs.len()];
        for (&pair, output) in self.of_lease.iter().zip(outputs) {
            if !std::mem::replace(&mut seen[pair], true) {
                of_pair[pair] = *output;
            }
        }
        let mut json = String::from("[");
        for (n, &i) in round.iter().enumerate() {
            if n > 0 {
                json.push(',');
            }
            let (id, token) = self.pairs[i];
            // A ULID and an integer need no escaping; the output is JSON already.
            json.push_str(&format!("[\"{id}\",{token}"));
            if let Some(output) = of_pair[i] {
                json.push(',');
                json.push_str(output);
            }
            json.push(']');
        }
        json.push(']');
        json
    }
}

/// `Ok` for each lease whose claim held, `LeaseLost` for the rest.
fn lost_unless_held(held: Vec<bool>, leases: &[Lease]) -> Vec<Result<()>> {
    held.into_iter()
        .zip(leases)
        .map(|(ok, l)| {
            if ok {
                Ok(())
            } else {
                Err(QueueError::LeaseLost(l.id))
            }
        })
        .collect()
}

impl SqliteQueue {
    /// Runs a batch statement (`?1` = `first`, `?2` = the pairs, with `outputs`, one per
    /// lease, unless empty) over `leases`; returns for each lease whether its claim was
    /// still held.
    async fn per_lease(
        &self,
        sql: &str,
        first: i64,
        leases: &[Lease],
        outputs: &[Option<&str>],
    ) -> Result<Vec<bool>> {
        let rounds = Rounds::new(leases);
        let mut held = vec![false; rounds.pairs.len()];
        for round in &rounds.rounds {
            let json = if outputs.is_empty() {
                rounds.json(round)
            } else {
                rounds.json_with_outputs(round, outputs)
            };
            let mut turn = self.write_turn().await?;
            let r = retry_busy!(
                sqlx::query_scalar(sql)
                    .bind(first)
                    .bind(&json)
                    .fetch_all(&mut *turn)
                    .await
            );
            drop(turn);
            let ids: Vec<String> = self.writer.checked(r.map_err(db_err))?;
            let ids: HashSet<String> = ids.into_iter().collect();
            for &i in round {
                held[i] = ids.contains(&rounds.pairs[i].0.to_string());
            }
        }
        Ok(rounds.of_lease.iter().map(|&i| held[i]).collect())
    }

    /// Completes claimed jobs; one result per lease.
    pub(super) async fn ack_leases(&self, leases: &[Lease]) -> Result<Vec<Result<()>>> {
        if leases.is_empty() {
            return Ok(Vec::new());
        }
        let held = self.per_lease(&self.sql.ack, now_us(), leases, &[]).await?;
        Ok(lost_unless_held(held, leases))
    }

    /// Completes claimed jobs, storing their outputs; a batch without any is an ack.
    pub(super) async fn complete_leases(&self, done: &[Completion]) -> Result<Vec<Result<()>>> {
        let checked = CheckedCompletions::new(done, self.opts.max_output);
        if !checked.any_output() {
            let written = self.ack_leases(&checked.leases).await?;
            return Ok(checked.merge(written));
        }
        let held = self
            .per_lease(
                &self.sql.complete,
                now_us(),
                &checked.leases,
                &checked.outputs,
            )
            .await?;
        let written = lost_unless_held(held, &checked.leases);
        Ok(checked.merge(written))
    }

    /// Extends the leases still held by the lease timeout, from now, saying which jobs
    /// have a cancel request. Rounds as in [`Self::per_lease`].
    pub(super) async fn extend_leases(&self, leases: &[Lease]) -> Result<Vec<LeaseStatus>> {
        if leases.is_empty() {
            return Ok(Vec::new());
        }
        let deadline = now_us().saturating_add(duration_us(self.lease()));
        let rounds = Rounds::new(leases);
        let mut status = vec![LeaseStatus::Lost; rounds.pairs.len()];
        for round in &rounds.rounds {
            let json = rounds.json(round);
            let mut turn = self.write_turn().await?;
            let r = retry_busy!(
                sqlx::query_as::<_, (String, bool)>(&self.sql.heartbeat)
                    .bind(deadline)
                    .bind(&json)
                    .fetch_all(&mut *turn)
                    .await
            );
            drop(turn);
            let held: HashMap<String, bool> = self
                .writer
                .checked(r.map_err(db_err))?
                .into_iter()
                .collect();
            for &i in round {
                status[i] = match held.get(&rounds.pairs[i].0.to_string()) {
                    Some(true) => LeaseStatus::CancelRequested,
                    Some(false) => LeaseStatus::Held,
                    None => LeaseStatus::Lost,
                };
            }
        }
        Ok(rounds.of_lease.iter().map(|&i| status[i]).collect())
    }

    /// Runs a single-lease statement (`?1` id, `?2` token, then what `bind` adds); no
    /// row changed means the claim was lost.
    async fn guarded<'q>(
        &self,
        sql: &'q str,
        lease: &Lease,
        bind: impl Fn(Query<'q>) -> Query<'q>,
    ) -> Result<()> {
        let id = lease.id.to_string();
        let mut turn = self.write_turn().await?;
        let r = retry_busy!(
            bind(sqlx::query(sql).bind(id.clone()).bind(lease.token.0))
                .execute(&mut *turn)
                .await
        );
        drop(turn);
        let n = self.writer.checked(r.map_err(db_err))?.rows_affected();
        if n == 0 {
            Err(QueueError::LeaseLost(lease.id))
        } else {
            Ok(())
        }
    }

    /// A failed attempt: back to pending after the backoff, or failed when used up.
    pub(super) async fn nack_lease(&self, lease: &Lease, error: &str) -> Result<()> {
        let policy = self.opts.retry;
        // Jitter drawn here, once per nack: SQLite's random() is an integer, and the
        // policy describes a fraction.
        let factor = 1.0 - policy.jitter_fraction() * fastrand::f64();
        let base = duration_us(policy.base()).min(MAX_DELAY_US);
        let cap = duration_us(policy.max()).min(MAX_DELAY_US);
        let error = stored_error(error).into_owned();
        self.guarded(&self.sql.nack, lease, |q| {
            q.bind(error.clone())
                .bind(now_us())
                .bind(base)
                .bind(cap)
                .bind(factor)
                .bind(MAX_DELAY_US)
        })
        .await?;
        if base == 0 {
            // Retried at once (or failed): idle workers may have work again.
            self.notifier.notify();
        }
        Ok(())
    }

    /// Fails the job now with `reason`.
    pub(super) async fn discard_lease(&self, lease: &Lease, reason: &str) -> Result<()> {
        let reason = stored_error(reason).into_owned();
        self.guarded(&self.sql.discard, lease, |q| {
            q.bind(reason.clone()).bind(now_us())
        })
        .await
    }

    /// Back to pending after `delay`, attempt given back (cancelled, with a cancel request).
    pub(super) async fn snooze_lease(&self, lease: &Lease, delay: Duration) -> Result<()> {
        // Capped like a delay at enqueue: snooze(Duration::MAX) means "as late as allowed",
        // and stays a time that reads back.
        let at = now_us().saturating_add(duration_us(delay.min(MAX_DELAY)));
        self.guarded(&self.sql.snooze, lease, |q| q.bind(at).bind(now_us()))
            .await?;
        if delay.is_zero() {
            self.notifier.notify();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use queue_core::ClaimToken;
    use time::OffsetDateTime;

    fn lease(id: JobId, token: i64) -> Lease {
        Lease {
            id,
            token: ClaimToken(token),
            expires_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn rounds_never_repeat_an_id_and_share_identical_pairs() {
        let (a, b) = (JobId::new(), JobId::new());
        let leases = [
            lease(a, 1),
            lease(b, 1),
            lease(a, 2),
            lease(a, 1),
            lease(a, 3),
        ];
        let r = Rounds::new(&leases);
        assert_eq!(r.pairs.len(), 4);
        assert_eq!(r.of_lease, vec![0, 1, 2, 0, 3]);
        assert_eq!(r.rounds, vec![vec![0, 1], vec![2], vec![3]]);
    }

    #[test]
    fn rounds_carry_the_first_output_of_each_pair() {
        let (a, b) = (JobId::new(), JobId::new());
        let leases = [lease(a, 1), lease(b, 2), lease(a, 1), lease(a, 3)];
        let outputs = [Some("{\"n\":1}"), None, Some("2"), Some("[3]")];
        let r = Rounds::new(&leases);
        let first: serde_json::Value =
            serde_json::from_str(&r.json_with_outputs(&r.rounds[0], &outputs)).unwrap();
        assert_eq!(
            first,
            serde_json::json!([[a.to_string(), 1, {"n": 1}], [b.to_string(), 2]])
        );
        let second: serde_json::Value =
            serde_json::from_str(&r.json_with_outputs(&r.rounds[1], &outputs)).unwrap();
        assert_eq!(second, serde_json::json!([[a.to_string(), 3, [3]]]));
    }
}
