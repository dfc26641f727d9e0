//! Inspection: jobs by state from the per-state indexes (ordered by id, so newest first
//! is a reverse range from a cursor; running jobs, indexed by lease deadline, are sorted
//! here), the oldest due job, one job by id, and counts from the indexes' sizes.

use fred::prelude::{HashesInterface, SortedSetsInterface, Value};
use queue_core::{list_limit, Job, JobFilter, JobId, JobState, QueueError, Result, Stats};
use time::OffsetDateTime;

use crate::decode::{fields, from_ms, int, job, string};
use crate::queue::Inner;

/// Job hashes read per pipeline.
const CHUNK: usize = 1_000;

/// Ids read per step of a listing with a kind filter, at least.
const KIND_CHUNK: usize = 500;

/// Parses index members into ids, skipping (with a warning) what is not one.
fn parse_ids(q: &Inner, raw: Vec<String>) -> Vec<JobId> {
    raw.into_iter()
        .filter_map(|s| match s.parse() {
            Ok(id) => Some(id),
            Err(_) => {
                tracing::warn!(queue = %q.name, member = %s, "skipping a malformed id in a state index");
                None
            }
        })
        .collect()
}

/// The ids of every running job, newest first. Running jobs are indexed by lease
/// deadline only, so this reads them all (as many as the workers hold).
async fn running_ids(q: &Inner) -> Result<Vec<JobId>> {
    let raw: Vec<String> = q
        .conns
        .other()
        .zrange(
            q.keys.state(JobState::Running),
            0,
            -1,
            None,
            false,
            None,
            false,
        )
        .await
        .map_err(QueueError::backend)?;
    let mut ids = parse_ids(q, raw);
    ids.sort_unstable_by(|a, b| b.cmp(a));
    Ok(ids)
}

/// The newest `n` ids below `before` (all when `None`) of the `states`, newest first.
/// `running` holds the running ids when `states` has that state. The other state
/// indexes are scored alike, so ordered by id: a reverse range by member from the
/// cursor.
async fn newest_below(
    q: &Inner,
    states: &[JobState],
    running: &[JobId],
    before: Option<JobId>,
    n: usize,
) -> Result<Vec<JobId>> {
    let max = before.map_or_else(|| "+".to_owned(), |id| format!("({id}"));
    let count = i64::try_from(n).unwrap_or(i64::MAX);
    let mut ids: Vec<JobId> = Vec::new();
    for &state in states {
        if state == JobState::Running {
            ids.extend(
                running
                    .iter()
                    .filter(|id| before.is_none_or(|b| **id < b))
                    .take(n),
            );
            continue;
        }
        let raw: Vec<String> = q
            .conns
            .other()
            .zrevrangebylex(q.keys.state(state), max.as_str(), "-", Some((0, count)))
            .await
            .map_err(QueueError::backend)?;
        ids.extend(parse_ids(q, raw));
    }
    ids.sort_unstable_by(|a, b| b.cmp(a));
    ids.dedup();
    ids.truncate(n);
    Ok(ids)
}

/// Reads the hashes of `ids`, in order, skipping jobs gone meanwhile and (with a
/// warning) jobs that cannot be decoded.
async fn load(q: &Inner, ids: &[JobId]) -> Result<Vec<Job>> {
    let mut jobs = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        let pipe = q.conns.other().pipeline();
        for id in chunk {
            let _: () = pipe
                .hgetall(q.keys.job(*id))
                .await
                .map_err(QueueError::backend)?;
        }
        let replies: Vec<Value> = pipe.all().await.map_err(QueueError::backend)?;
        for (id, v) in chunk.iter().zip(replies) {
            let f = fields(v);
            if f.is_empty() {
                continue;
            }
            match job(&f) {
                Ok(j) => jobs.push(j),
                Err(reason) => {
                    tracing::warn!(queue = %q.name, %id, %reason, "skipping a job that cannot be decoded")
                }
            }
        }
    }
    Ok(jobs)
}

/// The jobs that match `filter`, newest first. Reads the state indexes from the cursor
/// in chunks of ids, loads their hashes and keeps the matches, until it has `limit` of
/// them or the indexes end. No index holds kinds, so with a kind filter a chunk is at
/// least [`KIND_CHUNK`] ids and a rare kind costs reading every job of the states listed
/// (pipelined, [`CHUNK`] hashes per round trip); without one, a page costs one read per
/// state plus its hashes.
pub(crate) async fn list(q: &Inner, filter: &JobFilter) -> Result<Vec<Job>> {
    filter.check()?;
    let limit = list_limit(filter.limit);
    let states: Vec<JobState> = match filter.state {
        Some(s) => vec![s],
        None => JobState::ALL.to_vec(),
    };
    let running = if states.contains(&JobState::Running) {
        running_ids(q).await?
    } else {
        Vec::new()
    };
    let chunk = if filter.kind.is_some() {
        limit.max(KIND_CHUNK)
    } else {
        limit
    };
    let mut out = Vec::new();
    let mut before = filter.before;
    loop {
        let ids = newest_below(q, &states, &running, before, chunk).await?;
        let Some(&last) = ids.last() else {
            return Ok(out);
        };
        for job in load(q, &ids).await? {
            // A job may have moved on between the two reads.
            if filter.state.is_some_and(|s| job.state != s)
                || filter.kind.as_ref().is_some_and(|k| job.kind != *k)
            {
                continue;
            }
            out.push(job);
            if out.len() == limit {
                return Ok(out);
            }
        }
        if ids.len() < chunk {
            return Ok(out);
        }
        before = Some(last);
    }
}

/// The earliest `scheduled_at` of the due pending jobs (see `scripts/oldest_due.lua`).
pub(crate) async fn oldest_due(q: &Inner) -> Result<Option<OffsetDateTime>> {
    let reply = q
        .scripts
        .oldest_due
        .run(q.conns.other(), q.keys.common(), Vec::new())
        .await?;
    match int(&reply) {
        -1 => Ok(None),
        ms => from_ms(ms).map(Some).ok_or_else(|| QueueError::Corrupt {
            id: None,
            reason: format!("oldest due time {ms} ms is out of range"),
        }),
    }
}

pub(crate) async fn get(q: &Inner, id: JobId) -> Result<Option<Job>> {
    let v: Value = q
        .conns
        .other()
        .hgetall(q.keys.job(id))
        .await
        .map_err(QueueError::backend)?;
    let f = fields(v);
    if f.is_empty() {
        return Ok(None);
    }
    job(&f).map(Some).map_err(|reason| QueueError::Corrupt {
        id: Some(id),
        reason,
    })
}

pub(crate) async fn stats(q: &Inner) -> Result<Stats> {
    let reply = q
        .scripts
        .stats
        .run(q.conns.other(), q.keys.common(), Vec::new())
        .await?;
    let mut values = match reply {
        Value::Array(values) if values.len() == JobState::ALL.len() + 1 => values,
        other => {
            return Err(QueueError::Backend(
                format!("stats script answered {other:?}").into(),
            ))
        }
    };
    let mut paused: Vec<String> = values
        .pop()
        .map(|v| v.into_array().iter().map(string).collect())
        .unwrap_or_default();
    paused.sort_unstable();
    let counts: Vec<i64> = values.iter().map(int).collect();
    let mut stats = Stats {
        paused,
        limits: crate::limits::stats(q).await?,
        ..Stats::default()
    };
    for (s, n) in JobState::ALL.into_iter().zip(counts) {
        *stats.get_mut(s) = u64::try_from(n).unwrap_or(0);
    }
    Ok(stats)
}
