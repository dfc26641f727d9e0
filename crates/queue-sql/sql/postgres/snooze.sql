-- Puts a claimed job back for later; the claim's attempt is given back. A job with a
-- cancel request is cancelled instead (its attempt stays counted).
UPDATE {table}
SET state            = CASE WHEN cancel_requested THEN 'cancelled' ELSE 'pending' END,
    attempts         = CASE WHEN cancel_requested THEN attempts
                            ELSE greatest(attempts - 1, 0) END,
    scheduled_at     = CASE WHEN cancel_requested THEN scheduled_at
                            ELSE now() + make_interval(secs => $3) END,
    finished_at      = CASE WHEN cancel_requested THEN now() END,
    unique_lock      = CASE WHEN cancel_requested AND unique_until IS NULL
                            THEN NULL ELSE unique_lock END,
    claim_token      = NULL,
    lease_expires_at = NULL
WHERE id = $1
  AND claim_token = $2
  AND state = 'running'
