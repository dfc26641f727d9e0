//! The Postgres statements, rendered once for the queue's table.

use queue_core::JobState;

use crate::ident::render;

macro_rules! load {
    ($file:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/sql/postgres/", $file))
    };
}

/// Every statement with `{table}` (and `{columns}`) filled in.
pub(crate) struct Sql {
    pub migrations_table: String,
    pub migrate: Vec<(i32, String)>,
    pub enqueue: String,
    pub free_unique: String,
    pub unique_holders: String,
    pub claim: String,
    pub next_due: String,
    pub ack: String,
    pub ack_delete: String,
    pub complete: String,
    pub nack: String,
    pub discard: String,
    pub snooze: String,
    pub heartbeat: String,
    pub cancel: String,
    pub notify_cancel: String,
    pub reclaim: String,
    pub replay: String,
    pub retake_unique: String,
    pub prune: String,
    pub list_all: String,
    pub oldest_due: String,
    pub run_now: String,
    pub delete: String,
    pub purge: String,
    /// One statement per state, in `JobState::ALL` order (see list_state.sql).
    pub list_state: Vec<String>,
    pub get: String,
    pub stats: String,
    pub count_fold: String,
    pub notify: String,
    pub fail_corrupt: String,
    pub pause: String,
    pub resume: String,
    pub paused: String,
    pub set_limit: String,
    pub clear_limit: String,
    pub limits: String,
    pub limit_stats: String,
    pub drop: String,
}

impl Sql {
    pub fn new(table: &str) -> Sql {
        let columns = load!("columns.sql").trim();
        let r = |s: &str| render(s, table).replace("{columns}", columns);
        Sql {
            migrations_table: r(load!("migrations_table.sql")),
            migrate: vec![
                (1, r(load!("migrate_1.sql"))),
                (2, r(load!("migrate_2.sql"))),
                (3, r(load!("migrate_3.sql"))),
                (4, r(load!("migrate_4.sql"))),
                (5, r(load!("migrate_5.sql"))),
                (6, r(load!("migrate_6.sql"))),
                (7, r(load!("migrate_7.sql"))),
                (8, r(load!("migrate_8.sql"))),
                (9, r(load!("migrate_9.sql"))),
                (10, r(load!("migrate_10.sql"))),
                (11, r(load!("migrate_11.sql"))),
            ],
            enqueue: r(load!("enqueue.sql")),
            free_unique: r(load!("free_unique.sql")),
            unique_holders: r(load!("unique_holders.sql")),
            claim: r(load!("claim.sql")),
            next_due: r(load!("next_due.sql")),
            ack: r(load!("ack.sql")),
            ack_delete: r(load!("ack_delete.sql")),
            complete: r(load!("complete.sql")),
            nack: r(load!("nack.sql")),
            discard: r(load!("discard.sql")),
            snooze: r(load!("snooze.sql")),
            heartbeat: r(load!("heartbeat.sql")),
            cancel: r(load!("cancel.sql")),
            notify_cancel: r(load!("notify_cancel.sql")),
            reclaim: r(load!("reclaim.sql")),
            replay: r(load!("replay.sql")),
            retake_unique: r(load!("retake_unique.sql")),
            prune: r(load!("prune.sql")),
            list_all: r(load!("list_all.sql")),
            oldest_due: r(load!("oldest_due.sql")),
            run_now: r(load!("run_now.sql")),
            delete: r(load!("delete.sql")),
            purge: r(load!("purge.sql")),
            list_state: JobState::ALL
                .iter()
                .map(|s| r(load!("list_state.sql")).replace("{state}", s.as_str()))
                .collect(),
            get: r(load!("get.sql")),
            stats: r(load!("stats.sql")),
            count_fold: r(load!("count_fold.sql")),
            notify: r(load!("notify.sql")),
            fail_corrupt: r(load!("fail_corrupt.sql")),
            pause: r(load!("pause.sql")),
            resume: r(load!("resume.sql")),
            paused: r(load!("paused.sql")),
            set_limit: r(load!("set_limit.sql")),
            clear_limit: r(load!("clear_limit.sql")),
            limits: r(load!("limits.sql")),
            limit_stats: r(load!("limit_stats.sql")),
            drop: r(load!("drop.sql")),
        }
    }
}

impl Sql {
    /// The list statement for `state`.
    pub fn list_state(&self, state: JobState) -> &str {
        let i = JobState::ALL.iter().position(|s| *s == state).unwrap_or(0);
        &self.list_state[i]
    }
}
