-- Version 2: the claim runs inside a function, so it can carry its own planner setting.
--
-- Without fresh statistics (a new table, or a burst of jobs since the last ANALYZE) the
-- planner guesses that few jobs are pending and plans a bitmap scan plus a sort of every
-- pending row, on every claim: thousands of times slower on a large backlog. The pending
-- index already yields rows in claim order, so sorting is never the right plan here.

CREATE OR REPLACE FUNCTION {table}_claim(kinds text[], max_jobs bigint, lease_secs float8)
RETURNS TABLE (
    id text, kind text, payload text, priority integer, attempts integer,
    max_attempts integer, state text, created_at timestamptz, scheduled_at timestamptz,
    unique_key text, last_error text, claim_token bigint, lease_expires_at timestamptz
)
LANGUAGE sql
SET enable_sort = off
AS $$
    -- SKIP LOCKED lets concurrent claimers take different rows without waiting on each
    -- other; each claim gets a fresh random token and a lease on the database clock.
    -- The picked ids go through an array so the update finds them by primary key: with
    -- the limit unknown at planning, a join here can turn into a scan of the whole table.
    UPDATE {table} AS j
    SET state            = 'running',
        attempts         = j.attempts + 1,
        claim_token      = (random() * 9.0e18)::bigint,
        lease_expires_at = now() + make_interval(secs => lease_secs)
    WHERE j.id = ANY (ARRAY(
        SELECT p.id
        FROM {table} AS p
        WHERE p.state = 'pending'
          AND p.scheduled_at <= now()
          AND (cardinality(kinds) = 0 OR p.kind = ANY (kinds))
        ORDER BY p.priority DESC, p.scheduled_at, p.id
        LIMIT max_jobs
        FOR UPDATE SKIP LOCKED
    ))
    RETURNING j.id, j.kind, j.payload::text, j.priority, j.attempts, j.max_attempts,
              j.state, j.created_at, j.scheduled_at, j.unique_key, j.last_error,
              j.claim_token, j.lease_expires_at
$$;
