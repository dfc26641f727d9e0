-- Cancels a job that has not started; running and finished jobs are left alone.
-- ?1 id, ?2 now (µs).
UPDATE {table}
SET state       = 'cancelled',
    finished_at = ?2,
    unique_lock = CASE WHEN unique_until IS NULL THEN NULL ELSE unique_lock END
WHERE id = ?1
  AND state = 'pending'
