-- One job by id, with its output (last, after {columns}; the claim returns no output).
SELECT {columns}, output::text AS output FROM {table} WHERE id = $1
