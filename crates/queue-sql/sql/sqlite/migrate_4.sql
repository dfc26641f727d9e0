-- Version 4: job counts per state without counting rows.
--
-- Counting a million rows took a third of a second. The counts now live in a small
-- table, kept in the same transaction as each change. SQLite has only row triggers, and
-- one per row cost a third of the drain, so the three changes on the hot path (enqueue,
-- claim: pending to running, ack: running to completed) are counted by the queue's own
-- statements once per batch (count_move.sql), and triggers count the rest: other state
-- changes (retries, failures, cancels, reclaims, replays) and deletes (pruning).

CREATE TABLE IF NOT EXISTS {table}_counts (
    state TEXT    PRIMARY KEY,
    n     INTEGER NOT NULL
) WITHOUT ROWID;

INSERT OR REPLACE INTO {table}_counts (state, n)
VALUES ('pending', 0), ('running', 0), ('completed', 0), ('failed', 0), ('cancelled', 0);
INSERT OR REPLACE INTO {table}_counts (state, n)
SELECT state, count(*) FROM {table} GROUP BY state;

CREATE TRIGGER IF NOT EXISTS {table}_count_update
AFTER UPDATE OF state ON {table}
WHEN old.state <> new.state
 AND NOT (old.state = 'pending' AND new.state = 'running')
 AND NOT (old.state = 'running' AND new.state = 'completed')
BEGIN
    UPDATE {table}_counts SET n = n - 1 WHERE state = old.state;
    UPDATE {table}_counts SET n = n + 1 WHERE state = new.state;
END;

CREATE TRIGGER IF NOT EXISTS {table}_count_delete
AFTER DELETE ON {table}
BEGIN
    UPDATE {table}_counts SET n = n - 1 WHERE state = old.state;
END;
