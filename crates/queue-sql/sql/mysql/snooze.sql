-- Puts a claimed job back to run in ? microseconds; the claim's attempt is given back. A
-- job with a cancel request is cancelled instead (its attempt stays counted).
-- Then the id and the claim token. `state` is assigned last (see nack.sql).
UPDATE `{table}`
SET attempts         = IF(cancel_requested, attempts, GREATEST(attempts - 1, 0)),
    scheduled_at     = IF(cancel_requested, scheduled_at,
                          UTC_TIMESTAMP(6) + INTERVAL ? MICROSECOND),
    finished_at      = IF(cancel_requested, UTC_TIMESTAMP(6), NULL),
    unique_lock      = IF(cancel_requested AND unique_until IS NULL, NULL, unique_lock),
    claim_token      = NULL,
    lease_expires_at = NULL,
    state            = IF(cancel_requested, 'cancelled', 'pending')
WHERE id = ?
  AND claim_token = ?
  AND state = 'running'
