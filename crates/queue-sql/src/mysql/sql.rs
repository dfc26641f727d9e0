//! The MySQL statements, rendered once for the queue's table.

use crate::ident::render;

macro_rules! load {
    ($file:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/sql/mysql/", $file))
    };
}

/// The `{after}` of claim.sql and limit_window.sql: on after a job (due time, id) of the
/// priority, in claim order.
const AFTER: &str = "AND (scheduled_at > ? OR (scheduled_at = ? AND id > ?))";

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
    /// The plain claim's filter that passes over the limited kinds.
    unlimited_filter: String,
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
    pub claim_first: String,
    /// claim.sql for one limited kind's jobs.
    pub claim_kind: String,
    pub limit_lock: String,
    pub limit_running: String,
    pub limit_due: String,
    pub limit_starts: String,
    pub limit_key_starts: String,
    pub limit_record_starts: String,
    pub limit_forget_starts: String,
    /// limit_window.sql from the head of a priority and after a job.
    pub limit_window: String,
    pub limit_window_after: String,
    pub limit_window_first: String,
    pub limit_take: String,
    pub limit_set: String,
    pub limit_clear: String,
    pub limit_clear_starts: String,
    pub limits: String,
}

/// Which jobs a rendering of claim.sql takes.
#[derive(Clone, Copy)]
enum Scope {
    /// The plain claim: every kind without a limit.
    Unlimited,
    /// One limited kind's jobs.
    Kind,
}

impl Sql {
    pub fn new(table: &str) -> Sql {
        let columns = load!("columns.sql").trim();
        let r = |s: &str| render(s, table).replace("{columns}", columns);
        let enqueue = r(load!("enqueue.sql"));
        let on_duplicate = r(load!("on_duplicate.sql"));
        let limit_window = r(load!("limit_window.sql"));
        let mut sql = Sql {
            migrations_table: r(load!("migrations_table.sql")),
            migrate: vec![
                (1, r(load!("migrate_1.sql"))),
                (2, r(load!("migrate_2.sql"))),
                (3, r(load!("migrate_3.sql"))),
            ],
            enqueue_unique: enqueue.replace("{on_duplicate}", &on_duplicate),
            enqueue: enqueue.replace("{on_duplicate}", ""),
            free_unique: r(load!("free_unique.sql")),
            unique_holders: r(load!("unique_holders.sql")),
            id_taken: r(load!("id_taken.sql")),
            claim: r(load!("claim.sql")),
            unlimited_filter: r("AND kind NOT IN (SELECT l.kind FROM `{table}_limits` AS l)"),
            claim_kind: String::new(),
            claim_first: r(load!("claim_first.sql")),
            limit_lock: r(load!("limit_lock.sql")),
            limit_running: r(load!("limit_running.sql")),
            limit_due: r(load!("limit_due.sql")),
            limit_starts: r(load!("limit_starts.sql")),
            limit_key_starts: r(load!("limit_key_starts.sql")),
            limit_record_starts: r(load!("limit_record_starts.sql")),
            limit_forget_starts: r(load!("limit_forget_starts.sql")),
            limit_window: limit_window.replace("{after}", ""),
            limit_window_after: limit_window.replace("{after}", AFTER),
            limit_window_first: r(load!("limit_window_first.sql")),
            limit_take: r(load!("limit_take.sql")),
            limit_set: r(load!("limit_set.sql")),
            limit_clear: r(load!("limit_clear.sql")),
            limit_clear_starts: r(load!("limit_clear_starts.sql")),
            limits: r(load!("limits.sql")),
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
        };
        sql.claim_kind = sql.render_claim(1, false, Scope::Kind);
        sql
    }

    /// claim.sql for a worker of `kinds` kinds (0: any kind), resuming after a point or
    /// not, passing over the limited kinds. The statement text, and so its prepared form,
    /// depends only on those two.
    pub fn claim(&self, kinds: usize, resumed: bool) -> String {
        self.render_claim(kinds, resumed, Scope::Unlimited)
    }

    fn render_claim(&self, kinds: usize, resumed: bool, scope: Scope) -> String {
        let filter = if kinds == 0 {
            String::new()
        } else {
            let marks = vec!["?"; kinds].join(", ");
            format!("AND kind IN ({marks})")
        };
        let after = if resumed { AFTER } else { "" };
        let limited = match scope {
            Scope::Unlimited => self.unlimited_filter.as_str(),
            Scope::Kind => "",
        };
        self.claim
            .replace("{kinds}", &filter)
            .replace("{after}", after)
            .replace("{limited}", limited)
    }
}
