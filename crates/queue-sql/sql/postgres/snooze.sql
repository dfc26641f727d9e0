-- Puts a claimed job back for later; the claim's attempt is given back.
UPDATE {table}
SET state            = 'pending',
    attempts         = greatest(attempts - 1, 0),
    scheduled_at     = now() + make_interval(secs => $3),
    claim_token      = NULL,
    lease_expires_at = NULL
WHERE id = $1
  AND claim_token = $2
  AND state = 'running'
