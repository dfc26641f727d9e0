//! The SQLite statements (sql/sqlite/*.sql), rendered once for the queue's table.

use std::sync::OnceLock;

use crate::ident::render;

/// Loads one statement file at compile time.
macro_rules! load {
    ($file:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/sql/sqlite/", $file))
    };
}

/// Jobs per insert statement: with 11 bound values each, a full chunk (22,528 values)
/// stays under SQLite's limit of 32,766 variables per statement.
pub(crate) const CHUNK: usize = 2_048;
/// Values bound per job in the insert of jobs with concurrency keys (see [`KEYED_ROW`]);
/// one fewer without (see [`ROW`]).
pub(crate) const VALUES_PER_ROW: usize = 11;
// Checked when compiling: a full chunk must stay within SQLITE_MAX_VARIABLE_NUMBER.
const _: () = assert!(CHUNK * VALUES_PER_ROW <= 32_766);
/// Above this many jobs the insert sizes step by this much; below, by powers of two.
const STEP: usize = 128;
/// How many insert sizes there are: 1, 2, 4 … [`STEP`], then 2×STEP … [`CHUNK`].
const SIZES: usize = STEP.trailing_zeros() as usize + CHUNK / STEP;

/// The values of one job in `enqueue.sql`, in its column order.
const KEYED_ROW: &str = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
/// The same without the concurrency key.
const ROW: &str = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

/// The size of insert that takes `n` jobs (1..=[`CHUNK`]), and its index among the
/// sizes. Few sizes, so the driver prepares each once per connection and reuses it; the
/// slots past `n` are bound to NULL, at most about one in eight.
pub(crate) fn insert_size(n: usize) -> (usize, usize) {
    let n = n.clamp(1, CHUNK);
    if n <= STEP {
        let size = n.next_power_of_two();
        (size, size.trailing_zeros() as usize)
    } else {
        let steps = n.div_ceil(STEP);
        (steps * STEP, STEP.trailing_zeros() as usize + steps - 1)
    }
}

/// Every statement with `{table}` (and `{columns}`, `{claimed_columns}`) filled in.
pub(crate) struct Sql {
    /// Creates the migration record table.
    pub migrations_table: String,
    /// Lists the applied versions.
    pub migrations_applied: String,
    /// Records one applied version.
    pub migrations_record: String,
    /// The migrations, by version.
    pub migrate: Vec<(i64, String)>,
    /// The insert with `{rows}` still to fill (see [`Sql::enqueue`]).
    enqueue_template: String,
    /// The inserts by size (see [`insert_size`]), rendered when first used: without
    /// concurrency keys, then with.
    enqueue: [[OnceLock<String>; SIZES]; 2],
    /// Frees lapsed unique keys.
    pub free_unique: String,
    /// Reads who holds unique keys.
    pub unique_holders: String,
    /// The batch claim, of one priority.
    pub claim: String,
    /// The next priority down with pending jobs.
    pub next_priority: String,
    /// Pauses a kind.
    pub pause: String,
    /// Resumes a kind.
    pub resume: String,
    /// The paused kinds.
    pub paused: String,
    /// Sets aside an undecodable claimed row.
    pub fail_corrupt: String,
    /// The batch ack.
    pub ack: String,
    /// The batch ack that stores outputs.
    pub complete: String,
    /// The batch heartbeat.
    pub heartbeat: String,
    /// A failed attempt.
    pub nack: String,
    /// Fail now.
    pub discard: String,
    /// Run later, attempt given back.
    pub snooze: String,
    /// Cancel a pending job.
    pub cancel: String,
    /// Failed back to pending.
    pub replay: String,
    /// A replayed job takes its unique key back.
    pub retake_unique: String,
    /// Expired leases back to pending (or failed).
    pub reclaim: String,
    /// Retention.
    pub prune: String,
    /// One job.
    pub get: String,
    /// Newest jobs, filtered, from a cursor.
    pub list: String,
    /// The earliest due time of the due pending jobs.
    pub oldest_due: String,
    /// A pending job scheduled for later, due now.
    pub run_now: String,
    /// Deletes one finished job.
    pub delete: String,
    /// Deletes old finished jobs of one state.
    pub purge: String,
    /// Counts per state.
    pub stats: String,
    /// Removes the table and its migration record.
    pub drop: String,
    /// Tells whether another connection committed (see `watch`).
    pub data_version: String,
    /// The main database's file, if it has one.
    pub main_file: String,
    /// The statements of limits (see [`LimitSql`]).
    pub limit: LimitSql,
}

/// The statements of concurrency and rate limits (sql/sqlite/limit_*.sql).
pub(crate) struct LimitSql {
    /// Stores a kind's limit.
    pub set: String,
    /// Removes a kind's limit.
    pub clear: String,
    /// Forgets a kind's recent starts.
    pub clear_starts: String,
    /// Every limit with its key cursor.
    pub all: String,
    /// The limits a claim honours, with their kinds' running jobs.
    pub claimed: String,
    /// Running jobs per kind, unexpired leases only.
    pub running: String,
    /// Running jobs of one key, unexpired leases only.
    pub key_running: String,
    /// What a window of a kind's head lets start by its keys' limits.
    pub window: String,
    /// The same, taken: the claim's picks marked running.
    pub take: String,
    /// How many jobs a window of one priority holds.
    pub held: String,
    /// Whether a kind may still be claimed by the take alone.
    pub alone: String,
    /// Recent starts of a kind.
    pub starts: String,
    /// Recent starts of a key.
    pub key_starts: String,
    /// Forgets starts whose windows are over.
    pub trim: String,
    /// Records starts.
    pub record: String,
    /// Saves a kind's key cursor.
    pub cursor: String,
    /// Due jobs of one kind and priority.
    pub kind_jobs: String,
    /// The next concurrency key of a kind.
    pub next_key: String,
    /// Due jobs of one key.
    pub key_jobs: String,
    /// Claims picked rows.
    pub claim: String,
    /// Due jobs of one kind, counted.
    pub due: String,
}

impl Sql {
    /// Renders every statement for `table`, which must be a validated identifier.
    pub(crate) fn new(table: &str) -> Sql {
        // A claim returns the columns of its jobs less their state, which it knows: one
        // value fewer to copy and decode per claimed job. Other reads add it.
        let claimed = load!("claimed_columns.sql").trim();
        let columns = format!("{claimed}, state");
        let r = |s: &str| {
            render(s, table)
                .replace("{claimed_columns}", claimed)
                .replace("{columns}", &columns)
        };
        let enqueue_template = r(load!("enqueue.sql"));
        Sql {
            migrations_table: r(load!("migrations_table.sql")),
            migrations_applied: r(load!("migrations_applied.sql")),
            migrations_record: r(load!("migrations_record.sql")),
            migrate: vec![
                (1, r(load!("migrate_1.sql"))),
                (2, r(load!("migrate_2.sql"))),
                (3, r(load!("migrate_3.sql"))),
                (4, r(load!("migrate_4.sql"))),
                (5, r(load!("migrate_5.sql"))),
                (6, r(load!("migrate_6.sql"))),
                (7, r(load!("migrate_7.sql"))),
            ],
            enqueue: std::array::from_fn(|_| std::array::from_fn(|_| OnceLock::new())),
            enqueue_template,
            free_unique: r(load!("free_unique.sql")),
            unique_holders: r(load!("unique_holders.sql")),
            claim: r(load!("claim.sql")),
            next_priority: r(load!("next_priority.sql")),
            pause: r(load!("pause.sql")),
            resume: r(load!("resume.sql")),
            paused: r(load!("paused.sql")),
            fail_corrupt: r(load!("fail_corrupt.sql")),
            ack: r(load!("ack.sql")),
            complete: r(load!("complete.sql")),
            heartbeat: r(load!("heartbeat.sql")),
            nack: r(load!("nack.sql")),
            discard: r(load!("discard.sql")),
            snooze: r(load!("snooze.sql")),
            cancel: r(load!("cancel.sql")),
            replay: r(load!("replay.sql")),
            retake_unique: r(load!("retake_unique.sql")),
            reclaim: r(load!("reclaim.sql")),
            prune: r(load!("prune.sql")),
            get: r(load!("get.sql")),
            list: r(load!("list.sql")),
            oldest_due: r(load!("oldest_due.sql")),
            run_now: r(load!("run_now.sql")),
            delete: r(load!("delete.sql")),
            purge: r(load!("purge.sql")),
            stats: r(load!("stats.sql")),
            drop: r(load!("drop.sql")),
            data_version: r(load!("data_version.sql")),
            main_file: r(load!("main_file.sql")),
            limit: LimitSql {
                set: r(load!("limit_set.sql")),
                clear: r(load!("limit_clear.sql")),
                clear_starts: r(load!("limit_clear_starts.sql")),
                all: r(load!("limit_all.sql")),
                claimed: r(load!("limit_claimed.sql")),
                running: r(load!("limit_running.sql")),
                key_running: r(load!("limit_key_running.sql")),
                window: r(load!("limit_window.sql")),
                take: r(load!("limit_take.sql")),
                held: r(load!("limit_held.sql")),
                alone: r(load!("limit_alone.sql")),
                starts: r(load!("limit_starts.sql")),
                key_starts: r(load!("limit_key_starts.sql")),
                trim: r(load!("limit_trim.sql")),
                record: r(load!("limit_record.sql")),
                cursor: r(load!("limit_cursor.sql")),
                kind_jobs: r(load!("limit_kind_jobs.sql")),
                next_key: r(load!("limit_next_key.sql")),
                key_jobs: r(load!("limit_key_jobs.sql")),
                claim: r(load!("limit_claim.sql")),
                due: r(load!("limit_due.sql")),
            },
        }
    }

    /// The insert for `n` jobs (1..=[`CHUNK`]), with their concurrency keys when `keyed`,
    /// and how many jobs it takes: at least `n`, the rest bound to NULL.
    pub(crate) fn enqueue(&self, n: usize, keyed: bool) -> (&str, usize) {
        let (size, i) = insert_size(n);
        let text = self.enqueue[usize::from(keyed)][i]
            .get_or_init(|| rows(&self.enqueue_template, size, keyed));
        (text, size)
    }
}

/// Values bound per job in the insert, with or without concurrency keys.
pub(crate) fn values_per_row(keyed: bool) -> usize {
    VALUES_PER_ROW - usize::from(!keyed)
}

/// `template` with `{rows}` replaced by `n` value tuples, and `{key}` by the key's column
/// of them or NULL.
fn rows(template: &str, n: usize, keyed: bool) -> String {
    let (row, key) = if keyed {
        (KEYED_ROW, "column11")
    } else {
        (ROW, "NULL")
    };
    let mut values = String::with_capacity(n * (row.len() + 2));
    for i in 0..n {
        if i > 0 {
            values.push_str(", ");
        }
        values.push_str(row);
    }
    template.replace("{rows}", &values).replace("{key}", key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_sizes_cover_every_batch_with_little_padding() {
        let mut seen = std::collections::HashSet::new();
        for n in 1..=CHUNK {
            let (size, i) = insert_size(n);
            assert!(size >= n && size <= CHUNK, "{n} -> {size}");
            // Padding is at most half a small batch, or one step of a big one.
            assert!(size - n < n.max(STEP), "{n} -> {size}");
            assert!(i < SIZES, "{n} -> index {i}");
            seen.insert((i, size));
        }
        // Each index names one size, and every size is used.
        assert_eq!(seen.len(), SIZES);
        assert_eq!(
            seen.iter()
                .map(|(i, _)| i)
                .collect::<std::collections::HashSet<_>>()
                .len(),
            SIZES
        );
    }

    #[test]
    fn every_placeholder_is_filled_and_chunks_fit_the_variable_limit() {
        let sql = Sql::new("jobs");
        let all = [
            &sql.claim,
            &sql.next_priority,
            &sql.ack,
            &sql.complete,
            &sql.nack,
            &sql.prune,
            &sql.reclaim,
            &sql.get,
            &sql.replay,
            &sql.retake_unique,
            &sql.fail_corrupt,
            &sql.list,
            &sql.oldest_due,
            &sql.run_now,
            &sql.delete,
            &sql.purge,
        ];
        for s in all {
            assert!(!s.contains('{'), "{s}");
        }
        let values = |s: &str| s.split("VALUES").nth(1).unwrap_or_default().to_string();
        for keyed in [false, true] {
            let (chunk, size) = sql.enqueue(CHUNK, keyed);
            assert_eq!(size, CHUNK);
            assert_eq!(
                values(chunk).matches('?').count(),
                CHUNK * values_per_row(keyed)
            );
            let (odd, size) = sql.enqueue(7, keyed);
            assert_eq!(size, 8);
            let row = if keyed { KEYED_ROW } else { ROW };
            assert_eq!(values(odd).matches(&format!("{row},")).count(), 7);
            assert!(!odd.contains('{'), "{odd}");
            assert_eq!(odd.contains("column11"), keyed, "{odd}");
        }
    }
}
