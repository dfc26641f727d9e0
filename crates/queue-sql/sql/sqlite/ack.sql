-- Completes the jobs whose [id, token] pairs (?2, a JSON array) still hold their claim.
-- The token is left in place so RETURNING tells which pair matched.
UPDATE {table}
SET state            = 'completed',
    finished_at      = ?1,
    lease_expires_at = NULL,
    unique_lock      = CASE WHEN unique_until IS NULL THEN NULL ELSE unique_lock END
WHERE state = 'running'
  AND (id, claim_token) IN (SELECT value ->> '$[0]', value ->> '$[1]' FROM json_each(?2))
RETURNING id, claim_token
