//! Inserting jobs: chunks of rows as one JSON value each (enqueue.sql), unique keys
//! resolved to their holders.

use std::collections::HashMap;

use queue_core::{JobId, NewJob, QueueError, Result, RunAt};
use serde_json::{json, Value};
use sqlx::{Connection, MySqlConnection};
use time::format_description::well_known::Iso8601;
use time::OffsetDateTime;

use super::row::{db_err, text};
use super::sql::Sql;
use crate::slots::{resolve, Slot};
use crate::BoxFuture;

/// Rows per statement at most.
const CHUNK_ROWS: usize = 1_000;
/// JSON bytes per statement at most, well inside MySQL's smallest default packet limit
/// (4 MiB on 5.7, 16 MiB on MariaDB, 64 MiB on 8.0); a bigger single job goes alone.
const CHUNK_BYTES: usize = 2 * 1024 * 1024;

/// One job as enqueue.sql reads it.
struct Row {
    id: JobId,
    key: Option<String>,
    json: String,
}

/// Validates and inserts `jobs` on `conn`. Several statements (chunks, unique keys) run
/// in a transaction of their own unless `conn` is already inside the caller's.
pub(super) fn insert<'a>(
    conn: &'a mut MySqlConnection,
    sql: &'a Sql,
    jobs: &'a [NewJob],
    own_tx: bool,
) -> BoxFuture<'a, Result<Vec<JobId>>> {
    // Boxed as `Send` here: sqlx's executor lifetimes otherwise defeat the Send check of
    // callers that spawn this future.
    Box::pin(insert_inner(conn, sql, jobs, own_tx))
}

async fn insert_inner(
    conn: &mut MySqlConnection,
    sql: &Sql,
    jobs: &[NewJob],
    own_tx: bool,
) -> Result<Vec<JobId>> {
    let mut rows = Vec::with_capacity(jobs.len());
    let mut slots = Vec::with_capacity(jobs.len());
    let mut first_with_key: HashMap<String, usize> = HashMap::new();
    for job in jobs {
        let key = job.unique.as_ref().map(|u| u.key.clone());
        if let Some(k) = &key {
            if let Some(&first) = first_with_key.get(k) {
                job.prepare()?;
                slots.push(Slot::SameAs(first));
                continue;
            }
            first_with_key.insert(k.clone(), slots.len());
        }
        let row = row_of(job)?;
        slots.push(Slot::Insert(row.id, key));
        rows.push(row);
    }
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let keys: Vec<String> = first_with_key.into_keys().collect();
    let rows: Vec<&Row> = rows.iter().collect();
    if keys.is_empty() && chunks(&rows).len() == 1 {
        // One statement is atomic on its own: no BEGIN and COMMIT round trips.
        run_insert(conn, &sql.enqueue, &rows, None).await?;
        return Ok(resolve(&slots, &HashMap::new()));
    }
    if own_tx {
        let mut tx = conn.begin().await.map_err(db_err)?;
        let holders = insert_all(&mut tx, sql, &rows, &keys).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(resolve(&slots, &holders))
    } else {
        let holders = insert_all(conn, sql, &rows, &keys).await?;
        Ok(resolve(&slots, &holders))
    }
}

/// The database's clock, read once for a batch of several statements.
async fn db_now(conn: &mut MySqlConnection, sql: &Sql) -> Result<OffsetDateTime> {
    sqlx::query_scalar(&sql.now)
        .fetch_one(&mut *conn)
        .await
        .map_err(db_err)
}

/// The enqueue.sql row of `job`.
fn row_of(job: &NewJob) -> Result<Row> {
    let p = job.prepare()?;
    let (run_at, delay_us) = match job.run_at {
        RunAt::Now => (Value::Null, Value::Null),
        RunAt::After(d) => (Value::Null, json!(super::capped_us(d))),
        RunAt::At(t) => (json!(datetime(t)?), Value::Null),
    };
    let key = job.unique.as_ref().map(|u| u.key.clone());
    let window_us = job
        .unique
        .as_ref()
        .and_then(|u| u.window)
        .map(super::capped_us);
    let row = json!([
        p.id.to_string(),
        job.kind,
        p.payload_json,
        job.priority,
        i32::try_from(p.max_attempts).unwrap_or(i32::MAX),
        run_at,
        delay_us,
        key,
        window_us,
        job.concurrency_key,
    ]);
    Ok(Row {
        id: p.id,
        key,
        json: row.to_string(),
    })
}

/// `t` in UTC as DATETIME(6) text reads it.
fn datetime(t: OffsetDateTime) -> Result<String> {
    let utc = t.to_offset(time::UtcOffset::UTC);
    let text = utc
        .format(&Iso8601::DEFAULT)
        .map_err(|e| QueueError::InvalidJob(format!("due time {t}: {e}")))?;
    // "2026-01-02T03:04:05.123456789Z" → "2026-01-02 03:04:05.123456".
    let (date, rest) = text.split_once('T').unwrap_or((&text, ""));
    let clock = rest.trim_end_matches('Z');
    let (hms, frac) = clock.split_once('.').unwrap_or((clock, ""));
    let micros: String = frac.chars().chain(std::iter::repeat('0')).take(6).collect();
    Ok(format!("{date} {hms}.{micros}"))
}

/// The rows split into statements: at most [`CHUNK_ROWS`] rows and [`CHUNK_BYTES`] each.
fn chunks<'a, 'r>(rows: &'a [&'r Row]) -> Vec<&'a [&'r Row]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (i, row) in rows.iter().enumerate() {
        let full = i - start == CHUNK_ROWS || (i > start && bytes + row.json.len() > CHUNK_BYTES);
        if full {
            out.push(&rows[start..i]);
            start = i;
            bytes = 0;
        }
        bytes += row.json.len() + 1;
    }
    out.push(&rows[start..]);
    out
}

/// Runs enqueue.sql (`statement`) over `rows`, chunk by chunk, at `now` (`None`: the
/// database's clock when each statement runs).
async fn run_insert(
    conn: &mut MySqlConnection,
    statement: &str,
    rows: &[&Row],
    now: Option<OffsetDateTime>,
) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    for chunk in chunks(rows) {
        let mut json = String::with_capacity(chunk.iter().map(|r| r.json.len() + 1).sum());
        json.push('[');
        for (i, row) in chunk.iter().enumerate() {
            if i > 0 {
                json.push(',');
            }
            json.push_str(&row.json);
        }
        json.push(']');
        sqlx::query(statement)
            .bind(json)
            .bind(now)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
    }
    Ok(())
}

/// Inserts every row. Rows with unique keys go through the duplicate-key clause, after
/// lapsed keys are freed, and who holds each key is read afterwards; a key released
/// between the insert and the read has no holder, and its rows are inserted again.
async fn insert_all(
    conn: &mut MySqlConnection,
    sql: &Sql,
    rows: &[&Row],
    keys: &[String],
) -> Result<HashMap<String, JobId>> {
    let now = Some(db_now(conn, sql).await?);
    let (keyed, plain): (Vec<&Row>, Vec<&Row>) =
        rows.iter().copied().partition(|r| r.key.is_some());
    // Without the clause a taken id fails the statement, as it should.
    run_insert(conn, &sql.enqueue, &plain, now).await?;
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    // The clause would skip a taken id silently: look first.
    check_ids_free(conn, sql, &keyed).await?;
    let keys_json = serde_json::to_string(keys).map_err(QueueError::backend)?;
    let mut holders = HashMap::new();
    let mut pending = keyed;
    for _ in 0..5 {
        sqlx::query(&sql.free_unique)
            .bind(&keys_json)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
        run_insert(conn, &sql.enqueue_unique, &pending, now).await?;
        let found = sqlx::query(&sql.unique_holders)
            .bind(&keys_json)
            .fetch_all(&mut *conn)
            .await
            .map_err(db_err)?;
        for row in &found {
            let key = text(row, 0).map_err(|reason| QueueError::Corrupt { id: None, reason })?;
            let id = text(row, 1).map_err(|reason| QueueError::Corrupt { id: None, reason })?;
            holders.insert(key, id.parse()?);
        }
        pending.retain(|r| r.key.as_ref().is_some_and(|k| !holders.contains_key(k)));
        if pending.is_empty() {
            return Ok(holders);
        }
    }
    Err(QueueError::Backend(
        "unique keys kept changing hands during enqueue; try again".into(),
    ))
}

/// Refuses the batch when one of `rows` has an id already in the table.
async fn check_ids_free(conn: &mut MySqlConnection, sql: &Sql, rows: &[&Row]) -> Result<()> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.to_string()).collect();
    if ids.is_empty() {
        return Ok(());
    }
    let json = serde_json::to_string(&ids).map_err(QueueError::backend)?;
    let taken = sqlx::query(&sql.id_taken)
        .bind(json)
        .fetch_all(&mut *conn)
        .await
        .map_err(db_err)?;
    if taken.is_empty() {
        Ok(())
    } else {
        Err(QueueError::InvalidJob(
            "a job with this id already exists".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_times_are_written_in_utc_to_the_microsecond() {
        let t = OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_123_456_789)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
            .to_offset(time::UtcOffset::from_hms(2, 0, 0).unwrap_or(time::UtcOffset::UTC));
        assert_eq!(
            datetime(t).ok().as_deref(),
            Some("2023-11-14 22:13:20.123456")
        );
        let whole = OffsetDateTime::from_unix_timestamp(0).unwrap_or(OffsetDateTime::UNIX_EPOCH);
        assert_eq!(
            datetime(whole).ok().as_deref(),
            Some("1970-01-01 00:00:00.000000")
        );
    }

    #[test]
    fn chunks_keep_to_their_row_and_byte_limits() {
        let row = |n: usize| Row {
            id: JobId::new(),
            key: None,
            json: "x".repeat(n),
        };
        let rows: Vec<Row> = (0..2_500).map(|_| row(10)).collect();
        let rows: Vec<&Row> = rows.iter().collect();
        let sizes: Vec<usize> = chunks(&rows).iter().map(|c| c.len()).collect();
        assert_eq!(sizes, vec![1_000, 1_000, 500]);
        let big: Vec<Row> = (0..3).map(|_| row(CHUNK_BYTES)).collect();
        let big: Vec<&Row> = big.iter().collect();
        let sizes: Vec<usize> = chunks(&big).iter().map(|c| c.len()).collect();
        assert_eq!(sizes, vec![1, 1, 1]);
    }
}
