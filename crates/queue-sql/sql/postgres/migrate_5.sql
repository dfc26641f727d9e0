-- Version 5: job counts per state without counting rows.
--
-- Counting a million rows per state took a quarter of a second. Instead every statement
-- that changes or deletes jobs appends its net change per state to a small table, from
-- statement-level triggers over the statement's transition tables: one short insert per
-- statement (a claim of 100 jobs appends two rows), whatever the batch size, and no row
-- that every writer must lock, so writers never wait on each other. The enqueue counts
-- its own inserts (enqueue.sql): a transition table of every inserted row cost a tenth of
-- the bulk insert rate. Rows inserted by other SQL are not counted.
-- Stats sum the appended rows; the maintenance pass folds them into one row per state
-- (count_fold.sql), so the sum stays short.

CREATE TABLE IF NOT EXISTS {table}_counts (
    state text   NOT NULL,
    n     bigint NOT NULL
);

-- Folding deletes and re-inserts every row: vacuum the little table often.
ALTER TABLE {table}_counts SET (
    autovacuum_vacuum_scale_factor = 0,
    autovacuum_vacuum_threshold = 1000
);

CREATE OR REPLACE FUNCTION {table}_count_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO {table}_counts (state, n)
    SELECT state, -count(*) FROM old_rows GROUP BY state;
    RETURN NULL;
END;
$$;

-- Heartbeats and other updates that keep the state add nothing.
CREATE OR REPLACE FUNCTION {table}_count_updated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO {table}_counts (state, n)
    SELECT state, sum(d)
    FROM (
        SELECT state, -1 AS d FROM old_rows
        UNION ALL
        SELECT state, 1 AS d FROM new_rows
    ) AS changes
    GROUP BY state
    HAVING sum(d) <> 0;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION {table}_count_truncated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM {table}_counts;
    RETURN NULL;
END;
$$;

-- CREATE TRIGGER locks out writers until this migration commits, so the counts taken
-- below and the triggers start from the same rows.
DROP TRIGGER IF EXISTS {table}_count_delete ON {table};
CREATE TRIGGER {table}_count_delete AFTER DELETE ON {table}
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION {table}_count_deleted();
DROP TRIGGER IF EXISTS {table}_count_update ON {table};
CREATE TRIGGER {table}_count_update AFTER UPDATE ON {table}
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION {table}_count_updated();
DROP TRIGGER IF EXISTS {table}_count_truncate ON {table};
CREATE TRIGGER {table}_count_truncate AFTER TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION {table}_count_truncated();

DELETE FROM {table}_counts;
INSERT INTO {table}_counts (state, n)
SELECT state, count(*) FROM {table} GROUP BY state;
