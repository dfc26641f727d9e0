-- The first concurrency key after ?2 among kind ?1's pending keyed jobs, due or not (no
-- row when none): one probe of the keyed index, however many jobs each key has.
SELECT concurrency_key
FROM {table} INDEXED BY {table}_keyed_pending_idx
WHERE state = 'pending'
  AND concurrency_key IS NOT NULL
  AND kind = ?1
  AND concurrency_key > ?2
ORDER BY concurrency_key
LIMIT 1
