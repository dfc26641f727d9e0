-- Cancels a job that has not started.
UPDATE {table}
SET state       = 'cancelled',
    finished_at = now(),
    unique_lock = CASE WHEN unique_until IS NULL THEN NULL ELSE unique_lock END
WHERE id = $1
  AND state = 'pending'
