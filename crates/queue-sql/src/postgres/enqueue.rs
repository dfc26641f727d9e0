//! Inserting jobs: one multi-row statement, unique keys resolved to their holders.

use std::collections::HashMap;

use queue_core::{JobId, NewJob, Result, RunAt};
use sqlx::{Connection, PgConnection};
use time::OffsetDateTime;

use super::row::db_err;
use super::sql::Sql;
use crate::slots::{resolve, Slot};
use crate::BoxFuture;

/// A batch as parallel arrays, the shape `unnest` takes.
#[derive(Clone, Default)]
struct Columns {
    id: Vec<String>,
    kind: Vec<String>,
    payload: Vec<String>,
    priority: Vec<i32>,
    max_attempts: Vec<i32>,
    run_at: Vec<Option<OffsetDateTime>>,
    delay_s: Vec<Option<f64>>,
    unique_key: Vec<Option<String>>,
    window_s: Vec<Option<f64>>,
    concurrency_key: Vec<Option<String>>,
}

/// Validates and inserts `jobs` on `conn`. With unique keys it takes several statements,
/// run in a transaction of their own unless `conn` is already inside the caller's.
pub(crate) fn insert<'a>(
    conn: &'a mut PgConnection,
    sql: &'a Sql,
    jobs: Vec<NewJob>,
    own_tx: bool,
) -> BoxFuture<'a, Result<Vec<JobId>>> {
    // Boxed as `Send` here: sqlx's executor lifetimes otherwise defeat the Send check of
    // callers that spawn this future.
    Box::pin(insert_inner(conn, sql, jobs, own_tx))
}

async fn insert_inner(
    conn: &mut PgConnection,
    sql: &Sql,
    jobs: Vec<NewJob>,
    own_tx: bool,
) -> Result<Vec<JobId>> {
    let mut cols = Columns::default();
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
            RunAt::After(d) => (None, Some(d.as_secs_f64())),
            RunAt::At(t) => (Some(t), None),
        };
        cols.id.push(p.id.to_string());
        cols.kind.push(job.kind.clone());
        cols.payload.push(p.payload_json);
        cols.priority.push(job.priority);
        cols.max_attempts
            .push(i32::try_from(p.max_attempts).unwrap_or(i32::MAX));
        cols.run_at.push(run_at);
        cols.delay_s.push(delay);
        cols.unique_key.push(key.clone());
        cols.window_s.push(
            job.unique
                .as_ref()
                .and_then(|u| u.window)
                .map(|w| w.as_secs_f64()),
        );
        cols.concurrency_key.push(job.concurrency_key.clone());
        slots.push(Slot::Insert(p.id, key));
    }
    if cols.id.is_empty() {
        return Ok(Vec::new());
    }
    let keys: Vec<String> = first_with_key.into_keys().collect();
    if keys.is_empty() {
        run_insert(conn, sql, &cols).await?;
        return Ok(resolve(&slots, &HashMap::new()));
    }
    if own_tx {
        let mut tx = conn.begin().await.map_err(db_err)?;
        let holders = insert_unique(&mut tx, sql, &cols, &keys).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(resolve(&slots, &holders))
    } else {
        let holders = insert_unique(conn, sql, &cols, &keys).await?;
        Ok(resolve(&slots, &holders))
    }
}

async fn run_insert(conn: &mut PgConnection, sql: &Sql, c: &Columns) -> Result<()> {
    sqlx::query(&sql.enqueue)
        .bind(&c.id)
        .bind(&c.kind)
        .bind(&c.payload)
        .bind(&c.priority)
        .bind(&c.max_attempts)
        .bind(&c.run_at)
        .bind(&c.delay_s)
        .bind(&c.unique_key)
        .bind(&c.window_s)
        .bind(&c.concurrency_key)
        .execute(conn)
        .await
        .map_err(db_err)?;
    Ok(())
}

/// Frees lapsed keys, inserts, and reads who holds each key afterwards. A key released
/// between the insert and the read has no holder: those jobs are inserted again.
async fn insert_unique(
    conn: &mut PgConnection,
    sql: &Sql,
    cols: &Columns,
    keys: &[String],
) -> Result<HashMap<String, JobId>> {
    let mut pending = cols.clone();
    let mut holders = HashMap::new();
    for _ in 0..5 {
        sqlx::query(&sql.free_unique)
            .bind(keys)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
        run_insert(conn, sql, &pending).await?;
        let rows: Vec<(String, String)> = sqlx::query_as(&sql.unique_holders)
            .bind(keys)
            .fetch_all(&mut *conn)
            .await
            .map_err(db_err)?;
        for (key, id) in rows {
            holders.insert(key, id.parse()?);
        }
        pending = pending.retain(|i, c| match &c.unique_key[i] {
            Some(k) => !holders.contains_key(k),
            None => false,
        });
        if pending.id.is_empty() {
            return Ok(holders);
        }
    }
    Err(queue_core::QueueError::Backend(
        "unique keys kept changing hands during enqueue; try again".into(),
    ))
}

impl Columns {
    /// The rows for which `keep(index, self)` holds.
    fn retain(&self, keep: impl Fn(usize, &Columns) -> bool) -> Columns {
        let mut out = Columns::default();
        for i in (0..self.id.len()).filter(|&i| keep(i, self)) {
            out.id.push(self.id[i].clone());
            out.kind.push(self.kind[i].clone());
            out.payload.push(self.payload[i].clone());
            out.priority.push(self.priority[i]);
            out.max_attempts.push(self.max_attempts[i]);
            out.run_at.push(self.run_at[i]);
            out.delay_s.push(self.delay_s[i]);
            out.unique_key.push(self.unique_key[i].clone());
            out.window_s.push(self.window_s[i]);
            out.concurrency_key.push(self.concurrency_key[i].clone());
        }
        out
    }
}
