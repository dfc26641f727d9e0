-- Version 7: the keyed partial indexes of version 6 test the concurrency key first.
--
-- SQLite evaluates a partial index's WHERE for every row an insert, update or delete
-- touches, term by term. Most jobs have no key: with the NULL test first, theirs stops
-- there instead of comparing the state's text every time. Same columns, same names.
DROP INDEX IF EXISTS {table}_keyed_pending_idx;
CREATE INDEX {table}_keyed_pending_idx
    ON {table} (kind, concurrency_key, priority DESC, scheduled_at, id)
    WHERE concurrency_key IS NOT NULL AND state = 'pending';

DROP INDEX IF EXISTS {table}_keyed_running_idx;
CREATE INDEX {table}_keyed_running_idx
    ON {table} (kind, concurrency_key, lease_expires_at)
    WHERE concurrency_key IS NOT NULL AND state = 'running';
