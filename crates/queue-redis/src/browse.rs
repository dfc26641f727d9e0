//! Inspection: jobs by state from the per-state indexes (ordered by id, so newest first
//! is a reverse range; running jobs, indexed by lease deadline, are sorted here), one job
//! by id, and counts from the indexes' sizes.

use fred::prelude::{HashesInterface, SortedSetsInterface, Value};
use queue_core::{list_limit, Job, JobId, JobState, QueueError, Result, Stats};

use crate::decode::{fields, int, job, string};
use crate::queue::Inner;

/// Job hashes read per pipeline.
const CHUNK: usize = 1_000;

/// The newest `limit` ids of one state.
async fn newest(q: &Inner, state: JobState, limit: usize) -> Result<Vec<JobId>> {
    // Running jobs are indexed by lease deadline only: read them all, sort by id here.
    let running = state == JobState::Running;
    let stop = if running {
        -1
    } else {
        i64::try_from(limit).unwrap_or(i64::MAX).saturating_sub(1)
    };
    let raw: Vec<String> = q
        .conns
        .other()
        .zrevrange(q.keys.state(state), 0, stop, false)
        .await
        .map_err(QueueError::backend)?;
    let mut ids: Vec<JobId> = raw
        .into_iter()
        .filter_map(|s| match s.parse() {
            Ok(id) => Some(id),
            Err(_) => {
                tracing::warn!(queue = %q.name, member = %s, "skipping a malformed id in a state index");
                None
            }
        })
        .collect();
    if running {
        ids.sort_unstable_by(|a, b| b.cmp(a));
        ids.truncate(limit);
    }
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

pub(crate) async fn list(q: &Inner, state: Option<JobState>, limit: usize) -> Result<Vec<Job>> {
    let limit = list_limit(limit);
    let ids = match state {
        Some(s) => newest(q, s, limit).await?,
        None => {
            let mut all = Vec::new();
            for s in JobState::ALL {
                all.extend(newest(q, s, limit).await?);
            }
            all.sort_unstable_by(|a, b| b.cmp(a));
            all.dedup();
            all.truncate(limit);
            all
        }
    };
    let mut jobs = load(q, &ids).await?;
    if let Some(s) = state {
        // A job may have moved on between the two reads.
        jobs.retain(|j| j.state == s);
    }
    Ok(jobs)
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
        ..Stats::default()
    };
    for (s, n) in JobState::ALL.into_iter().zip(counts) {
        *stats.get_mut(s) = u64::try_from(n).unwrap_or(0);
    }
    Ok(stats)
}
