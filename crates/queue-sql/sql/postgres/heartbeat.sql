-- Extends the leases still held; returns their (id, token) pairs.
UPDATE {table} AS j
SET lease_expires_at = now() + make_interval(secs => $3)
FROM unnest($1::text[], $2::bigint[]) AS l(id, token)
WHERE j.id = l.id
  AND j.claim_token = l.token
  AND j.state = 'running'
RETURNING j.id, l.token
