-- Cancels a pending job at once; on a running job records a cancel request for its worker.
-- Returns the state after: 'cancelled' or 'running'. No row: unknown or already finished.
-- (SET expressions read the row as it was.) ?1 id, ?2 now (µs).
UPDATE {table}
SET state            = CASE WHEN state = 'pending' THEN 'cancelled' ELSE state END,
    finished_at      = CASE WHEN state = 'pending' THEN ?2 ELSE finished_at END,
    unique_lock      = CASE WHEN state = 'pending' AND unique_until IS NULL
                            THEN NULL ELSE unique_lock END,
    cancel_requested = (state = 'running')
WHERE id = ?1
  AND state IN ('pending', 'running')
RETURNING state
