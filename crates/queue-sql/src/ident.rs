//! Table names are spliced into SQL, so only plain identifiers pass.

use queue_core::{QueueError, Result};

/// Longest table name; leaves room for the index and migration-table suffixes.
pub const MAX_TABLE_LEN: usize = 48;

/// Accepts `[A-Za-z_][A-Za-z0-9_]*` up to 48 bytes; anything else is an error, not a panic.
pub fn validate_table(name: &str) -> Result<()> {
    let mut chars = name.chars();
    let ok_start = matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_');
    let ok_rest = chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok_start && ok_rest && name.len() <= MAX_TABLE_LEN {
        Ok(())
    } else {
        Err(QueueError::InvalidConfig(format!(
            "unsafe table name {name:?}: use letters, digits and _ (at most {MAX_TABLE_LEN} bytes, not starting with a digit)"
        )))
    }
}

/// Replaces `{table}` in a SQL text with the (validated) table name.
pub fn render(sql: &str, table: &str) -> String {
    sql.replace("{table}", table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_pass_and_others_fail() {
        for ok in ["queue_jobs", "_x", "Jobs2"] {
            assert!(validate_table(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "1jobs",
            "jobs; drop table x",
            "a-b",
            "a.b",
            "jöbs",
            &"x".repeat(49),
        ] {
            assert!(validate_table(bad).is_err(), "{bad}");
        }
    }
}
