//! The columns that reads of a whole job (get, list) add after the claim's own: the
//! output, the cancel request and when the job finished. Claims return none of them, so
//! a row without them reads as no output, no request and not finished (a claimed job is
//! running, so that is also the truth).

use sqlx::{ColumnIndex, Decode, Row, Type};

/// What follows the claim's columns, from `first` on. `T` is how the dialect stores a
/// time.
pub(crate) struct Tail<T> {
    pub output: Option<serde_json::Value>,
    pub cancel_requested: bool,
    pub finished_at: Option<T>,
}

/// Reads the output at `first`, the cancel request after it and the finish time after
/// that, when the row has them.
pub(crate) fn read<R, T>(row: &R, first: usize) -> Result<Tail<T>, String>
where
    R: Row,
    usize: ColumnIndex<R>,
    for<'r> Option<String>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> bool: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<T>: Decode<'r, R::Database> + Type<R::Database>,
{
    let mut tail = Tail {
        output: None,
        cancel_requested: false,
        finished_at: None,
    };
    if row.len() > first {
        let text: Option<String> = row.try_get(first).map_err(|e| e.to_string())?;
        tail.output = text
            .map(|t| serde_json::from_str(&t))
            .transpose()
            .map_err(|e| format!("output: {e}"))?;
    }
    if row.len() > first + 1 {
        tail.cancel_requested = row.try_get(first + 1).map_err(|e| e.to_string())?;
    }
    if row.len() > first + 2 {
        tail.finished_at = row
            .try_get(first + 2)
            .map_err(|e| format!("finished_at: {e}"))?;
    }
    Ok(tail)
}
