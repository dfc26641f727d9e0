-- One job by id, with its output (after the shared columns; the claim returns none).
SELECT {columns}, output::text AS output FROM {table} WHERE id = $1
