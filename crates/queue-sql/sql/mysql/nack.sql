-- A failed attempt, in one guarded statement. With attempts left the job goes back to
-- pending after min(base << (attempts - 1), cap) * jitter; otherwise it is failed (or
-- cancelled, when a cancel was requested) and a unique key without a window is released.
-- Values in order: base (µs; 0 retries at once), cap (µs, at most the longest delay),
-- jitter factor in (0, 1], the error, then the id and the claim token.
--
-- MySQL assigns left to right and later expressions see earlier assignments, so every
-- expression reads only columns this statement does not change, and `state` comes last.
UPDATE `{table}`
SET scheduled_at     = IF(cancel_requested OR attempts >= max_attempts,
                          scheduled_at,
                          UTC_TIMESTAMP(6) + INTERVAL CAST(
                              LEAST(? * POW(2, LEAST(GREATEST(attempts - 1, 0), 40)), ?) * ?
                          AS SIGNED) MICROSECOND),
    finished_at      = IF(cancel_requested OR attempts >= max_attempts, UTC_TIMESTAMP(6), NULL),
    unique_lock      = IF((cancel_requested OR attempts >= max_attempts) AND unique_until IS NULL,
                          NULL, unique_lock),
    last_error       = ?,
    claim_token      = NULL,
    lease_expires_at = NULL,
    state            = CASE WHEN cancel_requested THEN 'cancelled'
                            WHEN attempts >= max_attempts THEN 'failed'
                            ELSE 'pending' END
WHERE id = ?
  AND claim_token = ?
  AND state = 'running'
