-- Returns leases that ran out before ?1 to the queue, or fails them with ?2 when their
-- attempts are used up; at most 1000 per call.
UPDATE {table}
SET state            = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'pending' END,
    scheduled_at     = CASE WHEN attempts >= max_attempts THEN scheduled_at ELSE ?1 END,
    finished_at      = CASE WHEN attempts >= max_attempts THEN ?1 END,
    last_error       = CASE WHEN attempts >= max_attempts THEN ?2 ELSE last_error END,
    unique_lock      = CASE WHEN attempts >= max_attempts AND unique_until IS NULL
                            THEN NULL ELSE unique_lock END,
    claim_token      = NULL,
    lease_expires_at = NULL
WHERE id IN (
    SELECT id
    FROM {table}
    WHERE state = 'running'
      AND lease_expires_at < ?1
    ORDER BY lease_expires_at
    LIMIT 1000
)
