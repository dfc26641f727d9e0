-- Folds the appended count changes into one row per state, in one statement so readers
-- see the rows before or after, never half. A concurrent fold waits for the rows this one
-- deletes and then skips them, so nothing is counted twice.
WITH gone AS (
    DELETE FROM {table}_counts RETURNING state, n
)
INSERT INTO {table}_counts (state, n)
SELECT state, sum(n) FROM gone GROUP BY state HAVING sum(n) <> 0
