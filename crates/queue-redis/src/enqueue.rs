//! Enqueueing: validate everything first, then store the jobs in chunks, one script call
//! per chunk, several chunks in flight at once in one pipeline.

use fred::prelude::{KeysInterface, Value};
use fred::types::Key;
use queue_core::{JobId, NewJob, QueueError, Result, RunAt};

use crate::builder::duration_ms;
use crate::decode::{string, to_ms};
use crate::queue::Inner;

/// Jobs stored per script call: small enough that a few chunks in flight overlap sending,
/// running and answering, large enough that the per-call cost is spread thin.
pub(crate) const CHUNK: usize = 250;
/// Chunks sent together in one pipeline.
const IN_FLIGHT: usize = 8;

/// The script arguments of one job (see `scripts/enqueue.lua`).
fn job_args(job: &NewJob, out: &mut Vec<Value>) -> Result<JobId> {
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
        Value::from(p.id.to_string()),
        Value::from(job.kind.as_str()),
        Value::from(p.payload_json),
        Value::from(job.priority.to_string()),
        Value::from(p.max_attempts.to_string()),
        Value::from(mode),
        Value::from(value.to_string()),
        Value::from(spec),
        Value::from(key),
        Value::from(job.concurrency_key.as_deref().unwrap_or_default()),
    ]);
    Ok(p.id)
}

/// Validates every job (nothing is written when one is invalid), then stores them chunk
/// by chunk, in order; returns the ids in order (the holder's id for a job whose unique
/// key is held).
///
/// Each chunk is atomic. The chunks of one call run in order, and a chunk refused for a
/// duplicate id stops the ones after it (see the stop flag in `scripts/enqueue.lua`), so
/// a failed call keeps exactly the chunks before the refused one, as if they had been
/// sent one by one.
pub(crate) async fn enqueue(q: &Inner, jobs: Vec<NewJob>) -> Result<Vec<JobId>> {
    let mut chunks = Vec::with_capacity(jobs.len().div_ceil(CHUNK));
    for part in jobs.chunks(CHUNK) {
        let mut args = Vec::with_capacity(1 + part.len() * 10);
        args.push(Value::from(part.len().to_string()));
        for job in part {
            job_args(job, &mut args)?;
        }
        chunks.push(args);
    }
    let mut keys: Vec<Key> = q.keys.common().into_iter().map(Key::from).collect();
    let stop = (chunks.len() > 1).then(|| q.keys.enqueue_stop(fastrand::u64(..)));
    if let Some(stop) = &stop {
        keys.push(Key::from(stop.as_str()));
    }
    let client = q.conns.other();
    let mut ids = Vec::with_capacity(jobs.len());
    let mut stored = Ok(());
    let mut rest = chunks.into_iter().peekable();
    while rest.peek().is_some() && stored.is_ok() {
        let group: Vec<Vec<Value>> = rest.by_ref().take(IN_FLIGHT).collect();
        stored = match q.scripts.enqueue.run_pipelined(client, &keys, group).await {
            Ok(replies) => replies
                .into_iter()
                .try_for_each(|reply| read_reply(reply?, &mut ids)),
            Err(e) => Err(e),
        };
    }
    if let (Err(_), Some(stop)) = (&stored, &stop) {
        // A refused chunk set the flag (or may have): it has done its job.
        let deleted: std::result::Result<i64, _> = client.del(stop.as_str()).await;
        if let Err(e) = deleted {
            tracing::warn!(queue = %q.name, key = %stop, error = %queue_core::ErrorChain(&e), "could not delete an enqueue stop flag; it expires within a minute");
        }
    }
    stored?;
    if !ids.is_empty() {
        q.notifier.notify();
    }
    Ok(ids)
}

/// Adds the ids of one chunk's reply to `ids`, or fails with why the chunk stored nothing.
fn read_reply(reply: Value, ids: &mut Vec<JobId>) -> Result<()> {
    let reply = reply.into_array();
    let mut it = reply.iter();
    let status = it.next().map(string).unwrap_or_default();
    match status.as_str() {
        "ok" => {
            for v in it {
                ids.push(string(v).parse()?);
            }
            Ok(())
        }
        "exists" => {
            let id = it.next().map(string).unwrap_or_default();
            Err(QueueError::InvalidJob(format!(
                "a job with id {id} already exists"
            )))
        }
        other => Err(QueueError::Backend(
            format!("unexpected reply from the enqueue script: {other:?}").into(),
        )),
    }
}
