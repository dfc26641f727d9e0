-- Running jobs of kind ?1 and concurrency key ?2 whose lease has not expired at ?3 (µs).
SELECT count(*)
FROM {table} INDEXED BY {table}_keyed_running_idx
WHERE state = 'running'
  AND concurrency_key IS NOT NULL
  AND kind = ?1
  AND concurrency_key = ?2
  AND lease_expires_at > ?3
