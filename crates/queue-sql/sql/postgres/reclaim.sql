-- Returns expired leases to the queue, or fails them when attempts are used up, or
-- cancels them when a cancel was requested (the worker died before it could).
-- At most $2 rows per run, and SKIP LOCKED, so several reclaimers never block or
-- double-handle a row; the caller runs it again while it comes back full. The ids go
-- through an array so the update finds them by primary key whatever the planner guesses.
UPDATE {table} AS j
SET state            = CASE WHEN j.cancel_requested THEN 'cancelled'
                            WHEN j.attempts >= j.max_attempts THEN 'failed'
                            ELSE 'pending' END,
    scheduled_at     = CASE WHEN j.cancel_requested OR j.attempts >= j.max_attempts
                            THEN j.scheduled_at ELSE now() END,
    finished_at      = CASE WHEN j.cancel_requested OR j.attempts >= j.max_attempts
                            THEN now() END,
    last_error       = CASE WHEN NOT j.cancel_requested AND j.attempts >= j.max_attempts
                            THEN $1 ELSE j.last_error END,
    unique_lock      = CASE WHEN (j.cancel_requested OR j.attempts >= j.max_attempts)
                                 AND j.unique_until IS NULL
                            THEN NULL ELSE j.unique_lock END,
    claim_token      = NULL,
    lease_expires_at = NULL
WHERE j.id = ANY (ARRAY(
    SELECT e.id
    FROM {table} AS e
    WHERE e.state = 'running'
      AND e.lease_expires_at < now()
    ORDER BY e.lease_expires_at
    LIMIT $2
    FOR UPDATE SKIP LOCKED
))
