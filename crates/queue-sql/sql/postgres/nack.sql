-- A failed attempt, in one guarded statement: back to pending after
-- min(base * 2^(attempts-1), cap) * jitter seconds, or failed when attempts are used up,
-- or cancelled when a cancel was requested.
-- $4 base seconds, $5 cap seconds (never more than MAX_DELAY), $6 jitter factor in (0, 1].
-- The exponent stops at 62: 2^1024 no longer fits a float8, and a retry-forever job gets
-- there; any base times 2^62 already exceeds every cap.
UPDATE {table}
SET state            = CASE WHEN cancel_requested THEN 'cancelled'
                            WHEN attempts >= max_attempts THEN 'failed'
                            ELSE 'pending' END,
    scheduled_at     = CASE WHEN cancel_requested OR attempts >= max_attempts THEN scheduled_at
                            ELSE now() + make_interval(secs =>
                                 least($4 * power(2, least(greatest(attempts - 1, 0), 62)), $5)
                                 * $6)
                       END,
    finished_at      = CASE WHEN cancel_requested OR attempts >= max_attempts THEN now() END,
    unique_lock      = CASE WHEN (cancel_requested OR attempts >= max_attempts)
                                 AND unique_until IS NULL
                            THEN NULL ELSE unique_lock END,
    last_error       = $3,
    claim_token      = NULL,
    lease_expires_at = NULL
WHERE id = $1
  AND claim_token = $2
  AND state = 'running'
