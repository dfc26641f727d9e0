-- Newest first within one state. {state} is a literal (one statement per state), so the
-- planner can use the partial index that holds that state: the primary key read
-- backwards for pending jobs, the lease index for running ones, the final-state index for
-- the rest. Outputs and cancel requests come last, as in get.sql.
SELECT {columns}, output::text AS output, cancel_requested FROM {table} WHERE state = '{state}' ORDER BY id DESC LIMIT $1
