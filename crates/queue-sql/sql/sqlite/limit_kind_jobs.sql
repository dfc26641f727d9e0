-- Up to ?5 due jobs (scheduled at or before ?2, µs) of priority ?1 and kind ?3 in claim
-- order; only those without a concurrency key unless ?4. With the priority fixed the due
-- time bounds the walk of the pending index, as in claim.sql; jobs of other kinds are
-- stepped over (no index leads by kind: every enqueue would write it).
-- Cast so that a damaged row is still picked (and set aside by the claim's decode).
SELECT rowid, CAST(priority AS INTEGER), CAST(scheduled_at AS INTEGER), CAST(id AS TEXT),
       CAST(concurrency_key AS TEXT)
FROM {table} INDEXED BY {table}_pending_idx
WHERE state = 'pending'
  AND priority = ?1
  AND scheduled_at <= ?2
  AND kind = ?3
  AND (?4 OR concurrency_key IS NULL)
ORDER BY priority DESC, scheduled_at, id
LIMIT ?5
