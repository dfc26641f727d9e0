-- Deletes jobs in final state ? that finished at least ? microseconds ago, at most ?,
-- the first to finish first; unique keys they still hold go with the rows. Walks the
-- finished_at index from its oldest entry, stepping over jobs of other final states.
DELETE FROM `{table}`
WHERE state = ?
  AND finished_at <= UTC_TIMESTAMP(6) - INTERVAL ? MICROSECOND
ORDER BY finished_at
LIMIT ?
