-- Picks and locks up to ? due jobs of kind ? with concurrency key ?, best first, as
-- claim.sql does for the plain claim; the kind's limit row is locked already.
SELECT {columns}, UTC_TIMESTAMP(6)
FROM `{table}` FORCE INDEX (`{table}_keyed_idx`)
WHERE kind = ?
  AND concurrency_key = ?
  AND keyed_state = 'pending'
  AND keyed_due <= UTC_TIMESTAMP(6)
ORDER BY priority DESC, scheduled_at, id
LIMIT ?
FOR UPDATE SKIP LOCKED
