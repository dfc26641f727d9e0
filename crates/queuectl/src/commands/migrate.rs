//! `migrate`: creates the queue's SQL table or brings its schema up to date, and says
//! which schema versions it found and which it applied. Redis keeps no schema.

use serde::Serialize;

use crate::error::CliError;
use crate::open::open;
use crate::output;
use crate::schema::SchemaConn;
use crate::target::Location;

/// Options of `migrate` (none of its own).
#[derive(clap::Args)]
#[command(after_help = concat!(
    "Examples:\n",
    "  queuectl --url postgres://postgres@127.0.0.1:5432/app migrate\n",
    "  queuectl --url sqlite:jobs.db --table billing_jobs migrate --json    ",
    "# {\"backend\":\"sqlite\",\"table\":\"billing_jobs\",\"found\":[],\"applied\":[1,2,3,4,5],\"version\":5}\n\n",
    "Safe while workers run and when several processes migrate at once (the queue crates ",
    "serialise migrations). Workers also migrate when they open the queue.\n\n",
    "Exit codes: 0 ok, 1 the operation failed (the message says why), 2 usage error."
))]
pub struct Args {}

/// What migrate found and did, as JSON.
#[derive(Serialize)]
struct Migrated<'a> {
    /// `postgres`, `sqlite` or `redis`.
    backend: &'static str,
    /// The SQL table.
    #[serde(skip_serializing_if = "Option::is_none")]
    table: Option<&'a str>,
    /// The Redis queue.
    #[serde(skip_serializing_if = "Option::is_none")]
    queue: Option<&'a str>,
    /// Schema versions there before.
    found: Vec<i64>,
    /// Schema versions this run applied.
    applied: Vec<i64>,
    /// The schema version now; `null` for Redis.
    version: Option<i64>,
}

/// Reads the versions, opens the queue (which migrates), reads them again.
pub async fn run(location: &Location, json: bool, _args: Args) -> Result<(), CliError> {
    let table = match location {
        Location::Postgres { table, .. }
        | Location::MySql { table, .. }
        | Location::Sqlite { table, .. } => Some(table.as_str()),
        Location::Redis { .. } => None,
    };
    let found = match (table, SchemaConn::open(location).await?) {
        (Some(table), Some(mut conn)) => {
            let found = conn.versions(table).await;
            conn.close().await;
            found?
        }
        _ => Vec::new(),
    };
    open(location).await.map_err(|e| e.context("migrate"))?;
    let now = match (table, SchemaConn::open(location).await?) {
        (Some(table), Some(mut conn)) => {
            let now = conn.versions(table).await;
            conn.close().await;
            now?
        }
        _ => Vec::new(),
    };
    let applied: Vec<i64> = now.iter().copied().filter(|v| !found.contains(v)).collect();
    let report = Migrated {
        backend: location.backend(),
        table,
        queue: match location {
            Location::Redis { name, .. } => Some(name),
            _ => None,
        },
        version: now.last().copied(),
        found,
        applied,
    };
    if json {
        return output::json(&report);
    }
    output::line(&describe(location, &report))
}

/// The report for people.
fn describe(location: &Location, report: &Migrated<'_>) -> String {
    if report.table.is_none() {
        return format!(
            "{}: Redis keeps no schema, nothing to migrate (the queue's scripts are loaded)",
            location.label()
        );
    }
    let found = match report.found.as_slice() {
        [] => "none (a new table)".to_owned(),
        versions => ranges(versions),
    };
    let applied = match report.applied.as_slice() {
        [] => "none (up to date)".to_owned(),
        versions => ranges(versions),
    };
    let version = report
        .version
        .map_or_else(|| "unknown".to_owned(), |v| v.to_string());
    format!(
        "{}\nfound:   {found}\napplied: {applied}\nschema version {version}",
        location.label()
    )
}

/// Versions as runs: `1-4, 6`.
fn ranges(versions: &[i64]) -> String {
    let mut runs: Vec<(i64, i64)> = Vec::new();
    for &v in versions {
        match runs.last_mut() {
            Some((_, end)) if *end + 1 == v => *end = v,
            _ => runs.push((v, v)),
        }
    }
    runs.iter()
        .map(|&(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_read_as_runs() {
        assert_eq!(ranges(&[1, 2, 3, 4, 6, 8, 9]), "1-4, 6, 8-9");
        assert_eq!(ranges(&[7]), "7");
        assert_eq!(ranges(&[]), "");
    }
}
