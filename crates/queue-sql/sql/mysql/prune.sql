-- Deletes finished jobs past their retention, at most ? per call (the caller repeats
-- while full), keeping rows whose unique window is still held. Values: the shorter of
-- the two retentions, the retention of completed and cancelled jobs, that of failed
-- jobs (NULL keeps them), all µs, then the limit. The first bound walks the finished_at
-- index instead of every finished row.
DELETE FROM `{table}`
WHERE finished_at < UTC_TIMESTAMP(6) - INTERVAL ? MICROSECOND
  AND (   (state IN ('completed', 'cancelled')
           AND finished_at < UTC_TIMESTAMP(6) - INTERVAL ? MICROSECOND)
       OR (state = 'failed'
           AND finished_at < UTC_TIMESTAMP(6) - INTERVAL ? MICROSECOND))
  AND (unique_lock IS NULL OR unique_until <= UTC_TIMESTAMP(6))
ORDER BY finished_at
LIMIT ?
