-- The highest priority below ?2 with pending jobs of kind ?1, due or not (no row when
-- none), from the kind index.
SELECT priority
FROM {table} INDEXED BY {table}_kind_idx
WHERE state = 'pending'
  AND kind = ?1
  AND priority < ?2
ORDER BY priority DESC
LIMIT 1
