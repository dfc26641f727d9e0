-- The highest priority below ?1 that has pending jobs, due or not (no row when none): the
-- first entry of that range of the pending index, whose first column is the priority.
SELECT priority
FROM {table} INDEXED BY {table}_pending_idx
WHERE state = 'pending'
  AND priority < ?1
ORDER BY priority DESC
LIMIT 1
