-- Extends the leases still held; returns their (id, token) pairs, and whether each job
-- has a cancel request.
-- A token is set only while a job runs, so it stands for `state = 'running'` too; that
-- test is left out because stale statistics make the planner scan every running job
-- through the state index instead of finding these few by primary key.
UPDATE {table} AS j
SET lease_expires_at = now() + make_interval(secs => $3)
FROM unnest($1::text[], $2::bigint[]) AS l(id, token)
WHERE j.id = ANY ($1::text[])
  AND j.id = l.id
  AND j.claim_token = l.token
RETURNING j.id, l.token, j.cancel_requested
