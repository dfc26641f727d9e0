-- Cancels pending job ? at once, releasing a unique key held until the job ends.
UPDATE `{table}`
SET finished_at = UTC_TIMESTAMP(6),
    unique_lock = IF(unique_until IS NULL, NULL, unique_lock),
    state       = 'cancelled'
WHERE id = ?
  AND state = 'pending'
