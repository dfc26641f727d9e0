-- One job by id, with its output and cancel request (after the shared columns; the claim
-- returns neither).
SELECT {columns}, output::text AS output, cancel_requested FROM {table} WHERE id = $1
