-- Newest first, any state, with outputs (as in get.sql).
SELECT {columns}, output::text AS output FROM {table} ORDER BY id DESC LIMIT $1
