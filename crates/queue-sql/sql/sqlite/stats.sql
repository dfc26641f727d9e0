-- Counts per state, read from the (state, id) index alone.
SELECT state, count(*) FROM {table} GROUP BY state
