-- One job by id, with its output, cancel request and finish time (after the shared
-- columns; the claim returns none of them).
SELECT {columns}, output::text AS output, cancel_requested, finished_at FROM {table} WHERE id = $1
