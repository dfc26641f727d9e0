-- Returns leases that ran out to the queue, due at once, or fails them with reason ?
-- when their attempts are used up, or cancels them when a cancel was requested (the
-- worker died before it could). At most ? rows, oldest deadline first, so one call never
-- holds many locks; the caller repeats while full. A row whose lease a heartbeat renews
-- meanwhile no longer matches once its lock is had, and is left alone. The running jobs
-- are one range of the claim index, as many as the workers hold.
UPDATE `{table}`
SET scheduled_at     = IF(cancel_requested OR attempts >= max_attempts,
                          scheduled_at, UTC_TIMESTAMP(6)),
    finished_at      = IF(cancel_requested OR attempts >= max_attempts, UTC_TIMESTAMP(6), NULL),
    last_error       = IF(NOT cancel_requested AND attempts >= max_attempts, ?, last_error),
    unique_lock      = IF((cancel_requested OR attempts >= max_attempts) AND unique_until IS NULL,
                          NULL, unique_lock),
    claim_token      = NULL,
    lease_expires_at = NULL,
    state            = CASE WHEN cancel_requested THEN 'cancelled'
                            WHEN attempts >= max_attempts THEN 'failed'
                            ELSE 'pending' END
WHERE state = 'running'
  AND lease_expires_at < UTC_TIMESTAMP(6)
ORDER BY lease_expires_at
LIMIT ?
