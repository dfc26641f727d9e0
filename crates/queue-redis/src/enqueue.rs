//! Enqueueing: validate everything first, then store chunks of up to 1,000 jobs, each
//! with one script call.

use queue_core::{JobId, NewJob, QueueError, Result, RunAt};

use crate::builder::duration_ms;
use crate::decode::{string, to_ms};
use crate::queue::Inner;

/// Jobs stored per script call.
pub(crate) const CHUNK: usize = 1_000;

/// The script arguments of one job (see `scripts/enqueue.lua`).
fn job_args(job: &NewJob, out: &mut Vec<String>) -> Result<JobId> {
    let p = job.prepare()?;
    let (mode, value) = match job.run_at {
        RunAt::Now => ("now", 0),
        RunAt::After(d) => ("after", i64::try_from(duration_ms(d)).unwrap_or(i64::MAX)),
        RunAt::At(t) => ("at", to_ms(t)),
    };
    let (spec, key) = match &job.unique {
        None => (String::new(), String::new()),
        Some(u) => (
            u.window
                .map_or_else(|| "0".to_string(), |w| duration_ms(w).max(1).to_string()),
            u.key.clone(),
        ),
    };
    out.extend([
        p.id.to_string(),
        job.kind.clone(),
        p.payload_json,
        job.priority.to_string(),
        p.max_attempts.to_string(),
        mode.to_string(),
        value.to_string(),
        spec,
        key,
    ]);
    Ok(p.id)
}

/// Validates every job, then stores them chunk by chunk; returns the ids in order (the
/// holder's id for a job whose unique key is held).
pub(crate) async fn enqueue(q: &Inner, jobs: Vec<NewJob>) -> Result<Vec<JobId>> {
    let mut chunks = Vec::with_capacity(jobs.len().div_ceil(CHUNK));
    for part in jobs.chunks(CHUNK) {
        let mut args = Vec::with_capacity(1 + part.len() * 9);
        args.push(part.len().to_string());
        for job in part {
            job_args(job, &mut args)?;
        }
        chunks.push(args);
    }
    let mut ids = Vec::with_capacity(jobs.len());
    for args in chunks {
        let reply = q
            .scripts
            .enqueue
            .run(&q.pool, q.keys.common(), args)
            .await?
            .into_array();
        let mut it = reply.iter();
        let status = it.next().map(string).unwrap_or_default();
        if status == "exists" {
            let id = it.next().map(string).unwrap_or_default();
            return Err(QueueError::InvalidJob(format!(
                "a job with id {id} already exists"
            )));
        }
        if status != "ok" {
            return Err(QueueError::Backend(
                format!("unexpected reply from the enqueue script: {status:?}").into(),
            ));
        }
        for v in it {
            ids.push(string(v).parse()?);
        }
    }
    if !ids.is_empty() {
        q.notifier.notify();
    }
    Ok(ids)
}
