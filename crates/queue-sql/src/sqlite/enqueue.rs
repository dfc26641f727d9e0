//! Inserting jobs: one statement over a JSON batch, unique keys resolved to their holders.

use std::collections::HashMap;

use queue_core::{JobId, NewJob, QueueError, Result, RunAt};
use serde_json::{json, Value};
use sqlx::SqliteConnection;
use time::OffsetDateTime;

use super::busy::retry_busy;
use super::row::{db_err, to_us};
use super::sql::Sql;
use crate::BoxFuture;

/// What to do for each job of the batch, in order.
enum Slot {
    /// Inserted under this id (unless its unique key turns out to be held).
    Insert(JobId, Option<String>),
    /// Same unique key as an earlier job of this batch: that job's slot.
    SameAs(usize),
}

/// Validates and inserts `jobs` on `conn`. Each statement is atomic on its own; a key
/// released between the insert and the holder lookup is retried.
pub(crate) fn insert<'a>(
    conn: &'a mut SqliteConnection,
    sql: &'a Sql,
    jobs: Vec<NewJob>,
) -> BoxFuture<'a, Result<Vec<JobId>>> {
    Box::pin(async move {
        let now = to_us(OffsetDateTime::now_utc());
        let mut rows: Vec<(Value, Option<String>)> = Vec::with_capacity(jobs.len());
        let mut slots = Vec::with_capacity(jobs.len());
        let mut first_with_key: HashMap<String, usize> = HashMap::new();
        for job in &jobs {
            let p = job.prepare()?;
            let key = job.unique.as_ref().map(|u| u.key.clone());
            if let Some(k) = &key {
                if let Some(&first) = first_with_key.get(k) {
                    slots.push(Slot::SameAs(first));
                    continue;
                }
                first_with_key.insert(k.clone(), slots.len());
            }
            let (run_at, delay) = match job.run_at {
                RunAt::Now => (None, None),
                RunAt::After(d) => (None, Some(i64::try_from(d.as_micros()).unwrap_or(i64::MAX))),
                RunAt::At(t) => (Some(to_us(t)), None),
            };
            let window = job
                .unique
                .as_ref()
                .and_then(|u| u.window)
                .map(|w| i64::try_from(w.as_micros()).unwrap_or(i64::MAX));
            rows.push((
                json!({
                    "id": p.id.to_string(),
                    "kind": job.kind,
                    "payload": p.payload_json,
                    "priority": job.priority,
                    "max_attempts": p.max_attempts,
                    "run_at": run_at,
                    "delay_us": delay,
                    "unique_key": key,
                    "window_us": window,
                }),
                key.clone(),
            ));
            slots.push(Slot::Insert(p.id, key));
        }
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = first_with_key.into_keys().collect();
        let mut holders: HashMap<String, JobId> = HashMap::new();
        let mut pending = rows;
        for _ in 0..5 {
            if !keys.is_empty() {
                let keys_json = json!(keys).to_string();
                retry_busy!(
                    sqlx::query(&sql.free_unique)
                        .bind(&keys_json)
                        .bind(now)
                        .execute(&mut *conn)
                        .await
                )
                .map_err(db_err)?;
            }
            let batch = Value::Array(pending.iter().map(|(v, _)| v.clone()).collect()).to_string();
            retry_busy!(
                sqlx::query(&sql.enqueue)
                    .bind(&batch)
                    .bind(now)
                    .execute(&mut *conn)
                    .await
            )
            .map_err(db_err)?;
            if keys.is_empty() {
                return Ok(resolve(&slots, &holders));
            }
            let keys_json = json!(keys).to_string();
            let found: Vec<(String, String)> = retry_busy!(
                sqlx::query_as(&sql.unique_holders)
                    .bind(&keys_json)
                    .fetch_all(&mut *conn)
                    .await
            )
            .map_err(db_err)?;
            for (key, id) in found {
                holders.insert(key, id.parse()?);
            }
            pending.retain(|(_, key)| key.as_ref().is_some_and(|k| !holders.contains_key(k)));
            if pending.is_empty() {
                return Ok(resolve(&slots, &holders));
            }
        }
        Err(QueueError::Backend(
            "unique keys kept changing hands during enqueue; try again".into(),
        ))
    })
}

fn resolve(slots: &[Slot], holders: &HashMap<String, JobId>) -> Vec<JobId> {
    let mut ids: Vec<JobId> = Vec::with_capacity(slots.len());
    for slot in slots {
        let id = match slot {
            Slot::Insert(id, Some(key)) => holders.get(key).copied().unwrap_or(*id),
            Slot::Insert(id, None) => *id,
            Slot::SameAs(i) => ids[*i],
        };
        ids.push(id);
    }
    ids
}
