-- Version 4: kinds paused in the database, honoured by every claim of every process.
--
-- The claim reads the paused kinds once per call (a lookup in a table of a few rows) and
-- never returns a job of one. Paused jobs stay in the claim index, so a claim steps over
-- those ahead of the jobs it takes (about 14 ms past 50,000 of them). While claims come
-- back full it resumes after its last job (postgres/resume.rs) and steps over them once;
-- it pays again on each claim of an idle worker, and only while the pause lasts. An
-- index led by the kind would spare that walk, but every enqueue would write it: it cost
-- 40 % of the bulk insert rate.

-- The paused kinds. Pausing inserts, resuming deletes.
CREATE TABLE IF NOT EXISTS {table}_paused (
    kind      text        PRIMARY KEY,
    paused_at timestamptz NOT NULL DEFAULT now()
);

-- The claim of migration 3 (see there), plus the pause.
CREATE OR REPLACE FUNCTION {table}_claim(
    kinds text[], max_jobs bigint, lease_secs float8,
    after_rank bigint, after_due timestamptz, after_id text
)
RETURNS TABLE (
    id text, kind text, payload text, priority integer, attempts integer,
    max_attempts integer, state text, created_at timestamptz, scheduled_at timestamptz,
    unique_key text, last_error text, claim_token bigint, lease_expires_at timestamptz
)
LANGUAGE plpgsql
SET enable_sort = off
AS $$
DECLARE
    picked text[] := '{}';
    paused text[];
    r bigint;
    from_due timestamptz;
    from_id text;
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);

    paused := ARRAY(SELECT z.kind FROM {table}_paused AS z);
    IF cardinality(kinds) > 0 AND kinds <@ paused THEN
        RETURN;
    END IF;

    r := coalesce(
        {table}_rank_between(-4294967296, coalesce(after_rank, 4294967296)),
        after_rank
    );
    WHILE r IS NOT NULL AND cardinality(picked) < max_jobs LOOP
        IF r = after_rank THEN
            from_due := after_due;
            from_id := after_id;
        ELSE
            from_due := '-infinity';
            from_id := '';
        END IF;
        picked := picked || ARRAY(
            SELECT p.id
            FROM {table} AS p
            WHERE p.state = 'pending'
              AND -(p.priority::bigint) = r
              AND p.scheduled_at <= now()
              AND (p.scheduled_at, p.id) > (from_due, from_id)
              AND (cardinality(kinds) = 0 OR p.kind = ANY (kinds))
              AND NOT (p.kind = ANY (paused))
            ORDER BY -(p.priority::bigint), p.scheduled_at, p.id
            LIMIT max_jobs - cardinality(picked)
            FOR UPDATE SKIP LOCKED
        );
        IF after_rank IS NOT NULL AND r < after_rank THEN
            r := coalesce({table}_rank_between(r, after_rank), after_rank);
        ELSE
            r := {table}_rank_between(r, 4294967296);
        END IF;
    END LOOP;

    RETURN QUERY
    UPDATE {table} AS j
    SET state            = 'running',
        attempts         = j.attempts + 1,
        claim_token      = (random() * 9.0e18)::bigint,
        lease_expires_at = now() + make_interval(secs => lease_secs)
    WHERE j.id = ANY (picked)
    RETURNING j.id, j.kind, j.payload::text, j.priority, j.attempts, j.max_attempts,
              j.state, j.created_at, j.scheduled_at, j.unique_key, j.last_error,
              j.claim_token, j.lease_expires_at;
END;
$$;
