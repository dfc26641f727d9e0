-- The highest priority below ? that has pending jobs, due or not (no row when none): one
-- step down the pending index, whose second column is the priority.
SELECT priority
FROM `{table}` FORCE INDEX (`{table}_pending_idx`)
WHERE state = 'pending'
  AND priority < ?
ORDER BY state DESC, priority DESC
LIMIT 1
