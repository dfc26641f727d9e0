-- Counts per state from the (state, id) index.
SELECT state, count(*) FROM {table} GROUP BY state
