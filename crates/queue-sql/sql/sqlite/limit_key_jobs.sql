-- Up to ?4 due jobs (scheduled at or before ?3, µs) of kind ?1 and concurrency key ?2,
-- in claim order, from the keyed index.
SELECT rowid, priority, scheduled_at, id, concurrency_key
FROM {table} INDEXED BY {table}_keyed_pending_idx
WHERE state = 'pending'
  AND concurrency_key IS NOT NULL
  AND kind = ?1
  AND concurrency_key = ?2
  AND scheduled_at <= ?3
ORDER BY priority DESC, scheduled_at, id
LIMIT ?4
