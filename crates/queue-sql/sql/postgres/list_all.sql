-- Newest first, any state, with outputs and cancel requests (as in get.sql).
SELECT {columns}, output::text AS output, cancel_requested FROM {table} ORDER BY id DESC LIMIT $1
