-- ack.sql that also stores each job's output: $3 holds one JSON text (or NULL) per
-- (id, token) pair of $1 and $2. Used only for a batch with at least one output; the
-- rest go through ack.sql, so jobs without output cost nothing more. Returns the pairs
-- that held.
UPDATE {table} AS j
SET state            = 'completed',
    finished_at      = now(),
    claim_token      = NULL,
    lease_expires_at = NULL,
    unique_lock      = CASE WHEN j.unique_until IS NULL THEN NULL ELSE j.unique_lock END,
    output           = l.output::jsonb
FROM unnest($1::text[], $2::bigint[], $3::text[]) AS l(id, token, output)
WHERE j.id = ANY ($1::text[])
  AND j.id = l.id
  AND j.claim_token = l.token
RETURNING j.id, l.token
