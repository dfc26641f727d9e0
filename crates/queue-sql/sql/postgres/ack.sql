-- Completes the jobs whose (id, token) pairs still hold their claim; returns those pairs.
-- A unique key without a window is released with the job.
-- A token is set only while a job runs, so it stands for `state = 'running'` too; that
-- test is left out because stale statistics make the planner scan every running job
-- through the state index instead of finding these few by primary key.
UPDATE {table} AS j
SET state            = 'completed',
    finished_at      = now(),
    claim_token      = NULL,
    lease_expires_at = NULL,
    unique_lock      = CASE WHEN j.unique_until IS NULL THEN NULL ELSE j.unique_lock END
FROM unnest($1::text[], $2::bigint[]) AS l(id, token)
WHERE j.id = ANY ($1::text[])
  AND j.id = l.id
  AND j.claim_token = l.token
RETURNING j.id, l.token
