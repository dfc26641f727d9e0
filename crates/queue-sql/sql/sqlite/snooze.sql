-- Puts a claimed job back to run at ?3 (µs); the claim's attempt is given back.
-- ?1 id, ?2 token.
UPDATE {table}
SET state            = 'pending',
    attempts         = max(attempts - 1, 0),
    scheduled_at     = ?3,
    claim_token      = NULL,
    lease_expires_at = NULL
WHERE id = ?1
  AND claim_token = ?2
  AND state = 'running'
