-- Up to ?4 due jobs (scheduled at or before ?3, µs) of kind ?1 and concurrency key ?2,
-- in claim order, from the keyed index.
-- Cast so that a damaged row is still picked (and set aside by the claim's decode).
SELECT rowid, CAST(priority AS INTEGER), CAST(scheduled_at AS INTEGER), CAST(id AS TEXT),
       CAST(concurrency_key AS TEXT)
FROM {table} INDEXED BY {table}_keyed_pending_idx
WHERE state = 'pending'
  AND concurrency_key IS NOT NULL
  AND kind = ?1
  AND concurrency_key = ?2
  AND scheduled_at <= ?3
ORDER BY priority DESC, scheduled_at, id
LIMIT ?4
