//! Table names are spliced into SQL unquoted, so only names that mean the same table, the
//! same index names and the same NOTIFY channel in both dialects pass: lower-case ASCII
//! letters, digits and `_`, not a keyword. Postgres folds unquoted names to lower case
//! while LISTEN and `pg_notify` take channel names as they are, so a mixed-case name
//! would create `billingjobs` yet listen on `BillingJobs`; rejecting it is simpler and
//! safer than quoting every statement.

use queue_core::{QueueError, Result};

/// Longest table name; leaves room for the index and migration-table suffixes.
pub const MAX_TABLE_LEN: usize = 48;

/// Words that cannot name a table unquoted in Postgres (its reserved and type/function
/// keywords) or that SQLite treats as keywords. Sorted, for the binary search.
const RESERVED: &[&str] = &[
    "abort",
    "action",
    "add",
    "after",
    "all",
    "alter",
    "always",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "attach",
    "authorization",
    "autoincrement",
    "before",
    "begin",
    "between",
    "binary",
    "both",
    "by",
    "cascade",
    "case",
    "cast",
    "check",
    "collate",
    "collation",
    "column",
    "commit",
    "concurrently",
    "conflict",
    "constraint",
    "create",
    "cross",
    "current",
    "current_catalog",
    "current_date",
    "current_role",
    "current_schema",
    "current_time",
    "current_timestamp",
    "current_user",
    "database",
    "default",
    "deferrable",
    "deferred",
    "delete",
    "desc",
    "detach",
    "distinct",
    "do",
    "drop",
    "each",
    "else",
    "end",
    "escape",
    "except",
    "exclude",
    "exclusive",
    "exists",
    "explain",
    "fail",
    "false",
    "fetch",
    "filter",
    "first",
    "following",
    "for",
    "foreign",
    "freeze",
    "from",
    "full",
    "generated",
    "glob",
    "grant",
    "group",
    "groups",
    "having",
    "if",
    "ignore",
    "ilike",
    "immediate",
    "in",
    "index",
    "indexed",
    "initially",
    "inner",
    "insert",
    "instead",
    "intersect",
    "into",
    "is",
    "isnull",
    "join",
    "key",
    "last",
    "lateral",
    "leading",
    "left",
    "like",
    "limit",
    "localtime",
    "localtimestamp",
    "match",
    "materialized",
    "natural",
    "no",
    "not",
    "nothing",
    "notnull",
    "null",
    "nulls",
    "of",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "others",
    "outer",
    "over",
    "overlaps",
    "partition",
    "placing",
    "plan",
    "pragma",
    "preceding",
    "primary",
    "query",
    "raise",
    "range",
    "recursive",
    "references",
    "regexp",
    "reindex",
    "release",
    "rename",
    "replace",
    "restrict",
    "returning",
    "right",
    "rollback",
    "row",
    "rows",
    "savepoint",
    "select",
    "session_user",
    "set",
    "similar",
    "some",
    "symmetric",
    "system_user",
    "table",
    "tablesample",
    "temp",
    "temporary",
    "then",
    "ties",
    "to",
    "trailing",
    "transaction",
    "trigger",
    "true",
    "unbounded",
    "union",
    "unique",
    "update",
    "user",
    "using",
    "vacuum",
    "values",
    "variadic",
    "verbose",
    "view",
    "virtual",
    "when",
    "where",
    "window",
    "with",
    "without",
];

/// Accepts `[a-z_][a-z0-9_]*` up to 48 bytes that is neither an SQL keyword of either
/// dialect nor in SQLite's reserved `sqlite_` namespace; anything else is an
/// [`QueueError::InvalidConfig`] naming the rule, not a panic.
pub fn validate_table(name: &str) -> Result<()> {
    let mut chars = name.chars();
    let ok_start = matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c == '_');
    let ok_rest = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !(ok_start && ok_rest && name.len() <= MAX_TABLE_LEN) {
        let hint = if name.chars().any(|c| c.is_ascii_uppercase()) {
            format!(
                " (\"{}\" names the same table on both databases)",
                name.to_ascii_lowercase()
            )
        } else {
            String::new()
        };
        return Err(QueueError::InvalidConfig(format!(
            "unsafe table name {name:?}: use lower-case ASCII letters, digits and _, not \
             starting with a digit, at most {MAX_TABLE_LEN} bytes{hint}"
        )));
    }
    if RESERVED.binary_search(&name).is_ok() || name.starts_with("sqlite_") {
        return Err(QueueError::InvalidConfig(format!(
            "table name {name:?} is a reserved word in SQL (or SQLite's own namespace); \
             pick another, such as \"{name}_jobs\""
        )));
    }
    Ok(())
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
        for ok in ["queue_jobs", "_x", "jobs2", "users", "orders", "user_jobs"] {
            assert!(validate_table(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "1jobs",
            "jobs; drop table x",
            "a-b",
            "a.b",
            "jöbs",
            "Jobs2",
            "BillingJobs",
            "user",
            "order",
            "select",
            "table",
            "sqlite_jobs",
            &"x".repeat(49),
        ] {
            assert!(
                matches!(validate_table(bad), Err(QueueError::InvalidConfig(m)) if m.contains(bad)),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_keyword_list_is_sorted_and_lower_case() {
        assert!(RESERVED.windows(2).all(|w| w[0] < w[1]));
        assert!(RESERVED.iter().all(|w| validate_table(w).is_err()));
        assert!(RESERVED
            .iter()
            .all(|w| w.chars().all(|c| c.is_ascii_lowercase() || c == '_')));
    }
}
