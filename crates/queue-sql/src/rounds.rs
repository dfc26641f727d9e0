//! Batches of leases as JSON `[[id, token], …]` arrays, for the dialects that take a
//! batch as one JSON value (SQLite's `json_each`, MySQL's `JSON_TABLE`).

use std::collections::HashMap;

use queue_core::{JobId, Lease, QueueError, Result};

/// The distinct (id, token) pairs of a batch of leases, split into rounds in which no id
/// appears twice. RETURNING gives only the updated row's new values, so the id alone
/// must tell which pair matched; a batch rarely holds one id twice (a stale lease next
/// to a fresh one), and then it takes one more statement.
pub(crate) struct Rounds {
    /// Distinct pairs, in first-seen order.
    pub pairs: Vec<(JobId, i64)>,
    /// For each lease, its pair.
    pub of_lease: Vec<usize>,
    /// Pair indexes per statement.
    pub rounds: Vec<Vec<usize>>,
}

impl Rounds {
    /// Splits `leases`.
    pub fn new(leases: &[Lease]) -> Rounds {
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
    pub fn json(&self, round: &[usize]) -> String {
        let pairs: Vec<(String, i64)> = round
            .iter()
            .map(|&i| (self.pairs[i].0.to_string(), self.pairs[i].1))
            .collect();
        // A Vec of (String, i64) always serialises.
        serde_json::to_string(&pairs).unwrap_or_else(|_| "[]".into())
    }

    /// The JSON of one round with outputs (one per lease, JSON text): `[id, token]` per
    /// pair, `[id, token, output]` when it has one. A pair given twice takes the output
    /// of its first lease. With `quoted` the output goes as a JSON string holding its
    /// text (for MySQL, whose JSON_TABLE reads only scalars), else as it is.
    pub fn json_with_outputs(
        &self,
        round: &[usize],
        outputs: &[Option<&str>],
        quoted: bool,
    ) -> String {
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
                if quoted {
                    // A &str always serialises.
                    json.push_str(&serde_json::to_string(output).unwrap_or_default());
                } else {
                    json.push_str(output);
                }
            }
            json.push(']');
        }
        json.push(']');
        json
    }
}

/// `Ok` for each lease whose claim held, `LeaseLost` for the rest.
pub(crate) fn lost_unless_held(held: Vec<bool>, leases: &[Lease]) -> Vec<Result<()>> {
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
            serde_json::from_str(&r.json_with_outputs(&r.rounds[0], &outputs, false)).unwrap();
        assert_eq!(
            first,
            serde_json::json!([[a.to_string(), 1, {"n": 1}], [b.to_string(), 2]])
        );
        let second: serde_json::Value =
            serde_json::from_str(&r.json_with_outputs(&r.rounds[1], &outputs, false)).unwrap();
        assert_eq!(second, serde_json::json!([[a.to_string(), 3, [3]]]));
    }

    #[test]
    fn quoted_outputs_go_as_strings_of_their_json() {
        let a = JobId::new();
        let leases = [lease(a, 7)];
        let r = Rounds::new(&leases);
        let json: serde_json::Value = serde_json::from_str(&r.json_with_outputs(
            &r.rounds[0],
            &[Some("{\"n\":\"\\\"\"}")],
            true,
        ))
        .unwrap();
        assert_eq!(
            json,
            serde_json::json!([[a.to_string(), 7, "{\"n\":\"\\\"\"}"]])
        );
    }
}
