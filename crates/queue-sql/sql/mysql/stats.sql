-- Counts per state, in one pass over the pending index (the smallest that holds the
-- state of every row).
SELECT state, COUNT(*)
FROM `{table}` FORCE INDEX (`{table}_pending_idx`)
GROUP BY state
