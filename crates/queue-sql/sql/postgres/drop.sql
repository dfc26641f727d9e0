-- Drops a queue's table and everything its migrations made. Runs as one transaction.
--
-- The same advisory lock as the migrations: a table migrating meanwhile has either
-- committed its trigger before the check at the end sees pg_trigger, or starts after this
-- commits and creates the shared function again (migration 1 runs CREATE OR REPLACE).
SELECT pg_advisory_xact_lock(hashtext('queue-migrate'));

DROP TABLE IF EXISTS {table};
-- Their argument is a row of the limits table: they go first.
DROP FUNCTION IF EXISTS {table}_take_limited({table}_limits, bigint);
DROP FUNCTION IF EXISTS {table}_take_window({table}_limits, bigint);
DROP TABLE IF EXISTS {table}_limits;
DROP TABLE IF EXISTS {table}_starts;
DROP FUNCTION IF EXISTS {table}_pick_kind(text, boolean, bigint);
DROP FUNCTION IF EXISTS {table}_take_limited(text, bigint);
DROP FUNCTION IF EXISTS {table}_take_window(text, bigint, bigint, bigint, bigint);
DROP FUNCTION IF EXISTS {table}_limit_stats();
DROP TABLE IF EXISTS {table}_migrations;
DROP TABLE IF EXISTS {table}_paused;
DROP FUNCTION IF EXISTS {table}_claim(text[], bigint, float8);
DROP FUNCTION IF EXISTS {table}_claim(text[], bigint, float8, bigint, timestamptz, text);
DROP FUNCTION IF EXISTS {table}_next_due(text[]);
DROP FUNCTION IF EXISTS {table}_rank_between(bigint, bigint);
DROP TABLE IF EXISTS {table}_counts;
DROP FUNCTION IF EXISTS {table}_count_deleted();
DROP FUNCTION IF EXISTS {table}_count_updated();
DROP FUNCTION IF EXISTS {table}_count_truncated();

-- The NOTIFY function is shared by every queue table of the schema: it goes with the last
-- table whose trigger calls it.
DO $$
DECLARE
    notify regprocedure := to_regprocedure('queue_notify_insert()');
BEGIN
    IF notify IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgfoid = notify) THEN
        DROP FUNCTION queue_notify_insert();
    END IF;
END;
$$;
