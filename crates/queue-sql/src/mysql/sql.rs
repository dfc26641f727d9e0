//! The MySQL statements, rendered once for the queue's table.

use crate::ident::render;

macro_rules! load {
    ($file:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/sql/mysql/", $file))
    };
}

/// Every statement with `{table}` (and `{columns}`) filled in.
pub(crate) struct Sql {
    pub migrations_table: String,
    pub migrate: Vec<(i32, String)>,
    pub enqueue: String,
    pub enqueue_unique: String,
    pub free_unique: String,
    pub unique_holders: String,
    pub id_taken: String,
    /// claim.sql before its `{kinds}` filter is filled in (see [`Sql::claim`]).
    claim: String,
    pub claim_mark: String,
    pub next_priority: String,
    pub fail_corrupt: String,
    pub ack: String,
    pub complete: String,
    pub acked: String,
    pub heartbeat: String,
    pub held: String,
    pub nack: String,
    pub discard: String,
    pub snooze: String,
    pub cancel_pending: String,
    pub cancel_running: String,
    pub reclaim: String,
    pub prune: String,
    pub replay_pick: String,
    pub replay: String,
    pub retake_unique: String,
    pub run_now: String,
    pub delete: String,
    pub purge: String,
    pub get: String,
    pub list: String,
    pub stats: String,
    pub head_due: String,
    pub pause: String,
    pub resume: String,
    pub paused: String,
    pub drop: String,
    pub wake: String,
    pub now: String,
    pub watch: String,
    pub migrations_applied: String,
    pub migrations_record: String,
}

impl Sql {
    pub fn new(table: &str) -> Sql {
        let columns = load!("columns.sql").trim();
        let r = |s: &str| render(s, table).replace("{columns}", columns);
        let enqueue = r(load!("enqueue.sql"));
        let on_duplicate = r(load!("on_duplicate.sql"));
        Sql {
            migrations_table: r(load!("migrations_table.sql")),
            migrate: vec![(1, r(load!("migrate_1.sql")))],
            enqueue_unique: enqueue.replace("{on_duplicate}", &on_duplicate),
            enqueue: enqueue.replace("{on_duplicate}", ""),
            free_unique: r(load!("free_unique.sql")),
            unique_holders: r(load!("unique_holders.sql")),
            id_taken: r(load!("id_taken.sql")),
            claim: r(load!("claim.sql")),
            claim_mark: r(load!("claim_mark.sql")),
            next_priority: r(load!("next_priority.sql")),
            fail_corrupt: r(load!("fail_corrupt.sql")),
            ack: r(load!("ack.sql")),
            complete: r(load!("complete.sql")),
            acked: r(load!("acked.sql")),
            heartbeat: r(load!("heartbeat.sql")),
            held: r(load!("held.sql")),
            nack: r(load!("nack.sql")),
            discard: r(load!("discard.sql")),
            snooze: r(load!("snooze.sql")),
            cancel_pending: r(load!("cancel_pending.sql")),
            cancel_running: r(load!("cancel_running.sql")),
            reclaim: r(load!("reclaim.sql")),
            prune: r(load!("prune.sql")),
            replay_pick: r(load!("replay_pick.sql")),
            replay: r(load!("replay.sql")),
            retake_unique: r(load!("retake_unique.sql")),
            run_now: r(load!("run_now.sql")),
            delete: r(load!("delete.sql")),
            purge: r(load!("purge.sql")),
            get: r(load!("get.sql")),
            list: r(load!("list.sql")),
            stats: r(load!("stats.sql")),
            head_due: r(load!("head_due.sql")),
            pause: r(load!("pause.sql")),
            resume: r(load!("resume.sql")),
            paused: r(load!("paused.sql")),
            drop: r(load!("drop.sql")),
            wake: r(load!("wake.sql")),
            now: r(load!("now.sql")),
            watch: r(load!("watch.sql")),
            migrations_applied: r(load!("migrations_applied.sql")),
            migrations_record: r(load!("migrations_record.sql")),
        }
    }

    /// claim.sql for a worker of `kinds` kinds (0: any kind), resuming after a point or
    /// not. The statement text, and so its prepared form, depends only on those two.
    pub fn claim(&self, kinds: usize, resumed: bool) -> String {
        let filter = if kinds == 0 {
            String::new()
        } else {
            let marks = vec!["?"; kinds].join(", ");
            format!("AND kind IN ({marks})")
        };
        let after = if resumed {
            "AND (scheduled_at > ? OR (scheduled_at = ? AND id > ?))"
        } else {
            ""
        };
        self.claim
            .replace("{kinds}", &filter)
            .replace("{after}", after)
    }
}
