-- Newest first within one state, below the cursor $1 (NULL: from the newest), of kind $2
-- when it is not NULL, at most $3; with the tail of get.sql.
--
-- {state} is a literal (one statement per state), so the planner can use the partial
-- index that holds that state: the primary key read backwards for pending jobs, the lease
-- index for running ones, the final-state index (state, id) for the rest. The cursor is a
-- plain value (see list_all.sql), a bound of those index scans in a generic plan too.
-- Kind is a filter: no index leads with it.
SELECT {columns}, output::text AS output, cancel_requested, finished_at
FROM {table}
WHERE state = '{state}'
  AND id < COALESCE($1::text, '~')
  AND ($2::text IS NULL OR kind = $2::text)
ORDER BY id DESC
LIMIT $3
