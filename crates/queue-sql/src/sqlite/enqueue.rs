//! Inserting jobs: validated up front, then one transaction that frees lapsed unique
//! keys, inserts in multi-row chunks, and resolves each held key to its holder.

use std::collections::HashMap;

use queue_core::{JobId, NewJob, QueueError, Result, RunAt};
use sqlx::SqliteConnection;

use super::busy::retry_busy;
use super::row::{db_err, duration_us, to_us};
use super::sql::{values_per_row, Sql, CHUNK};
use crate::BoxFuture;

/// One validated job, in the stored form.
struct Row {
    /// The ULID as text.
    id: String,
    /// The job kind.
    kind: String,
    /// The payload as JSON text.
    payload: String,
    /// Higher runs first.
    priority: i32,
    /// Claims allowed (never 0).
    max_attempts: i64,
    /// When it becomes eligible (µs).
    scheduled_at: i64,
    /// The unique key, if any.
    unique_key: Option<String>,
    /// When the unique window ends (µs); `None` holds the key until the job ends.
    unique_until: Option<i64>,
    /// The concurrency key, if any.
    concurrency_key: Option<String>,
}

/// Where each job of the batch gets its id from, in input order.
enum Slot {
    /// Its own row; with a unique key the key's holder decides (itself or an older job).
    Row(JobId, Option<String>),
    /// The same unique key as an earlier job of the batch: that job's id.
    SameAs(usize),
}

/// A validated batch, ready to insert (and to insert again if the transaction is retried).
pub(crate) struct Batch {
    /// "Now" of the enqueue (µs): created_at, the base of delays and unique windows.
    now: i64,
    /// The rows to insert.
    rows: Vec<Row>,
    /// One per input job.
    slots: Vec<Slot>,
    /// The batch's distinct unique keys, as a JSON array.
    keys_json: Option<String>,
}

impl Batch {
    /// Validates every job (nothing is written when one is bad) and fills its defaults.
    /// A unique key repeated within the batch keeps only its first job.
    pub(crate) fn prepare(jobs: Vec<NewJob>, now: i64) -> Result<Batch> {
        let mut rows = Vec::with_capacity(jobs.len());
        let mut slots = Vec::with_capacity(jobs.len());
        let mut first_with_key: HashMap<String, usize> = HashMap::new();
        for job in jobs {
            let p = job.prepare()?;
            let key = job.unique.as_ref().map(|u| u.key.clone());
            if let Some(k) = &key {
                if let Some(&first) = first_with_key.get(k) {
                    slots.push(Slot::SameAs(first));
                    continue;
                }
                first_with_key.insert(k.clone(), slots.len());
            }
            let scheduled_at = match job.run_at {
                RunAt::Now => now,
                RunAt::After(d) => now.saturating_add(duration_us(d)),
                RunAt::At(t) => to_us(t),
            };
            let unique_until = job
                .unique
                .as_ref()
                .and_then(|u| u.window)
                .map(|w| now.saturating_add(duration_us(w)));
            rows.push(Row {
                id: p.id.to_string(),
                kind: job.kind,
                payload: p.payload_json,
                priority: job.priority,
                max_attempts: i64::from(p.max_attempts),
                scheduled_at,
                unique_key: key.clone(),
                unique_until,
                concurrency_key: job.concurrency_key,
            });
            slots.push(Slot::Row(p.id, key));
        }
        let keys: Vec<&String> = first_with_key.keys().collect();
        let keys_json = if keys.is_empty() {
            None
        } else {
            Some(serde_json::to_string(&keys).map_err(QueueError::backend)?)
        };
        Ok(Batch {
            now,
            rows,
            slots,
            keys_json,
        })
    }

    /// True when the insert is one statement and needs no transaction around it: no
    /// unique keys to free and resolve, and one chunk.
    pub(crate) fn is_one_statement(&self) -> bool {
        self.keys_json.is_none() && self.rows.len() <= CHUNK
    }

    /// True when there is nothing to insert.
    pub(crate) fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The id each input job ended up with, given who holds each unique key.
    pub(crate) fn ids(&self, holders: &HashMap<String, JobId>) -> Result<Vec<JobId>> {
        let mut ids: Vec<JobId> = Vec::with_capacity(self.slots.len());
        for slot in &self.slots {
            let id = match slot {
                Slot::Row(id, None) => *id,
                Slot::Row(_, Some(key)) => *holders.get(key).ok_or_else(|| {
                    QueueError::Backend(
                        format!("unique key {key:?} has no holder after insert").into(),
                    )
                })?,
                Slot::SameAs(i) => ids.get(*i).copied().ok_or_else(|| {
                    QueueError::Backend("unique key refers to a later job".into())
                })?,
            };
            ids.push(id);
        }
        Ok(ids)
    }
}

/// What the insert transaction needs.
pub(crate) struct Insert<'a> {
    /// The statements.
    pub sql: &'a Sql,
    /// The jobs.
    pub batch: &'a Batch,
}

/// The body of the insert transaction; returns the holder of each unique key of the
/// batch. Every statement sees the same transaction, so a key cannot change hands
/// between the insert and the holder lookup. Busy retries per statement matter only on
/// a caller's transaction; ours holds the write lock from its first statement.
pub(crate) fn write<'c>(
    conn: &'c mut SqliteConnection,
    ins: &'c Insert<'_>,
) -> BoxFuture<'c, Result<HashMap<String, JobId>>> {
    // An `async fn` boxed here, not an async block: sqlx's executor lifetimes otherwise
    // defeat the compiler's `Send` check of the boxed future.
    Box::pin(write_inner(conn, ins))
}

/// See [`write()`].
async fn write_inner(
    conn: &mut SqliteConnection,
    ins: &Insert<'_>,
) -> Result<HashMap<String, JobId>> {
    let Insert { sql, batch } = *ins;
    if let Some(keys) = &batch.keys_json {
        retry_busy!(
            sqlx::query(&sql.free_unique)
                .bind(keys)
                .bind(batch.now)
                .execute(&mut *conn)
                .await
        )
        .map_err(db_err)?;
    }
    for chunk in batch.rows.chunks(CHUNK) {
        let keyed = chunk.iter().any(|r| r.concurrency_key.is_some());
        let (text, size) = sql.enqueue(chunk.len(), keyed);
        retry_busy!({
            let mut q = sqlx::query(text);
            for r in chunk {
                q = q
                    .bind(&r.id)
                    .bind(&r.kind)
                    .bind(&r.payload)
                    .bind(r.priority)
                    .bind(r.max_attempts)
                    .bind(batch.now)
                    .bind(r.scheduled_at)
                    .bind(&r.unique_key)
                    .bind(&r.unique_key)
                    .bind(r.unique_until);
                if keyed {
                    q = q.bind(&r.concurrency_key);
                }
            }
            let width = values_per_row(keyed);
            for _ in chunk.len() * width..size * width {
                q = q.bind(None::<i64>);
            }
            q.execute(&mut *conn).await
        })
        .map_err(db_err)?;
    }
    let mut holders = HashMap::new();
    if let Some(keys) = &batch.keys_json {
        let rows: Vec<(String, String)> = retry_busy!(
            sqlx::query_as(&sql.unique_holders)
                .bind(keys)
                .fetch_all(&mut *conn)
                .await
        )
        .map_err(db_err)?;
        for (key, id) in rows {
            holders.insert(key, id.parse()?);
        }
    }
    Ok(holders)
}
