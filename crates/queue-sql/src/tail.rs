//! The columns that reads of a whole job (get, list) add after the claim's own: the
//! output and the cancel request. Claims return neither, so a row without them reads as
//! no output and no request.

use sqlx::{ColumnIndex, Decode, Row, Type};

/// What follows the claim's columns, from `first` on.
pub(crate) struct Tail {
    pub output: Option<serde_json::Value>,
    pub cancel_requested: bool,
}

/// Reads the output at `first` and the cancel request after it, when the row has them.
pub(crate) fn read<R>(row: &R, first: usize) -> Result<Tail, String>
where
    R: Row,
    usize: ColumnIndex<R>,
    for<'r> Option<String>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> bool: Decode<'r, R::Database> + Type<R::Database>,
{
    if row.len() <= first {
        return Ok(Tail {
            output: None,
            cancel_requested: false,
        });
    }
    let text: Option<String> = row.try_get(first).map_err(|e| e.to_string())?;
    let output = text
        .map(|t| serde_json::from_str(&t))
        .transpose()
        .map_err(|e| format!("output: {e}"))?;
    let cancel_requested = if row.len() > first + 1 {
        row.try_get(first + 1).map_err(|e| e.to_string())?
    } else {
        false
    };
    Ok(Tail {
        output,
        cancel_requested,
    })
}
