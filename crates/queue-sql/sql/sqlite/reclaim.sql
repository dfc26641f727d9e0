-- Returns leases that ran out before ?1 (now, µs) to the queue, due at once, or fails
-- them with reason ?2 when their attempts are used up, or cancels them when a cancel was
-- requested (the worker died before it could). At most ?3 rows, oldest deadline
-- first, so one call never holds the write lock for long; the caller repeats while full.
UPDATE {table}
SET state            = CASE WHEN cancel_requested THEN 'cancelled'
                            WHEN attempts >= max_attempts THEN 'failed'
                            ELSE 'pending' END,
    scheduled_at     = CASE WHEN cancel_requested OR attempts >= max_attempts
                            THEN scheduled_at ELSE ?1 END,
    finished_at      = CASE WHEN cancel_requested OR attempts >= max_attempts THEN ?1 END,
    last_error       = CASE WHEN NOT cancel_requested AND attempts >= max_attempts
                            THEN ?2 ELSE last_error END,
    unique_lock      = CASE WHEN (cancel_requested OR attempts >= max_attempts)
                                 AND unique_until IS NULL
                            THEN NULL ELSE unique_lock END,
    claim_token      = NULL,
    lease_expires_at = NULL
WHERE rowid IN (
    SELECT rowid
    FROM {table} INDEXED BY {table}_lease_idx
    WHERE state = 'running'
      AND lease_expires_at < ?1
    ORDER BY lease_expires_at
    LIMIT ?3
)
