-- Counts per state, in one pass over the table (no index by state since migration 2).
SELECT state, count(*) FROM {table} GROUP BY state
