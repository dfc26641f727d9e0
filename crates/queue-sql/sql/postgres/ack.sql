-- Completes the jobs whose (id, token) pairs still hold their claim; returns those pairs.
-- A unique key without a window is released with the job.
UPDATE {table} AS j
SET state            = 'completed',
    finished_at      = now(),
    claim_token      = NULL,
    lease_expires_at = NULL,
    unique_lock      = CASE WHEN j.unique_until IS NULL THEN NULL ELSE j.unique_lock END
FROM unnest($1::text[], $2::bigint[]) AS l(id, token)
WHERE j.id = l.id
  AND j.claim_token = l.token
  AND j.state = 'running'
RETURNING j.id, l.token
