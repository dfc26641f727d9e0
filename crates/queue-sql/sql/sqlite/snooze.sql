-- Puts a claimed job back to run at ?3 (µs); the claim's attempt is given back. A job
-- with a cancel request is cancelled instead (its attempt stays counted).
-- ?1 id, ?2 token, ?4 now (µs).
UPDATE {table}
SET state            = CASE WHEN cancel_requested THEN 'cancelled' ELSE 'pending' END,
    attempts         = CASE WHEN cancel_requested THEN attempts ELSE max(attempts - 1, 0) END,
    scheduled_at     = CASE WHEN cancel_requested THEN scheduled_at ELSE ?3 END,
    finished_at      = CASE WHEN cancel_requested THEN ?4 END,
    unique_lock      = CASE WHEN cancel_requested AND unique_until IS NULL
                            THEN NULL ELSE unique_lock END,
    claim_token      = NULL,
    lease_expires_at = NULL
WHERE id = ?1
  AND claim_token = ?2
  AND state = 'running'
