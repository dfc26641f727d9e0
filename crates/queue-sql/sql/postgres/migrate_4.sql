-- Version 4: kinds paused in the database, honoured by every claim of every process.
--
-- The claim reads the paused kinds once per call (a lookup in a table of a few rows) and
-- never returns a job of one. Skipping them inside the claim index would walk over every
-- paused job at the head of a priority (50,000 paused jobs made each claim read 1,100
-- pages instead of 4), so while a pause concerns a claim, it reads each of its other
-- kinds from a second index led by the kind, and keeps the best of what they hold.

-- The paused kinds. Pausing inserts, resuming deletes.
CREATE TABLE IF NOT EXISTS {table}_paused (
    kind      text        PRIMARY KEY,
    paused_at timestamptz NOT NULL DEFAULT now()
);

-- Pending jobs per kind, in claim order within the kind. Keyed by the plain priority, so
-- the per-kind statements below can use no other index.
CREATE INDEX IF NOT EXISTS {table}_kind_idx
    ON {table} (kind, priority DESC, scheduled_at, id) WHERE state = 'pending';

-- Locks up to max_jobs due jobs of one kind, best first, from the kind index: one rank
-- at a time, like the claim, each read up to its first job not yet due. Returns their ids.
CREATE OR REPLACE FUNCTION {table}_claim_kind(one_kind text, max_jobs bigint)
RETURNS text[]
LANGUAGE plpgsql
SET enable_sort = off
AS $$
DECLARE
    picked text[] := '{}';
    pr integer;
BEGIN
    pr := (
        SELECT p.priority FROM {table} AS p
        WHERE p.state = 'pending' AND p.kind = one_kind
        ORDER BY p.priority DESC
        LIMIT 1
    );
    WHILE pr IS NOT NULL AND cardinality(picked) < max_jobs LOOP
        picked := picked || ARRAY(
            SELECT p.id FROM {table} AS p
            WHERE p.state = 'pending'
              AND p.kind = one_kind
              AND p.priority = pr
              AND p.scheduled_at <= now()
            ORDER BY p.scheduled_at, p.id
            LIMIT max_jobs - cardinality(picked)
            FOR UPDATE SKIP LOCKED
        );
        pr := (
            SELECT p.priority FROM {table} AS p
            WHERE p.state = 'pending' AND p.kind = one_kind AND p.priority < pr
            ORDER BY p.priority DESC
            LIMIT 1
        );
    END LOOP;
    RETURN picked;
END;
$$;

-- Every kind with pending jobs: one probe of the kind index per kind. Used only by a claim
-- of any kind while some kind is paused.
CREATE OR REPLACE FUNCTION {table}_pending_kinds()
RETURNS text[]
LANGUAGE sql
STABLE
AS $$
    WITH RECURSIVE k(kind) AS (
        (SELECT p.kind FROM {table} AS p WHERE p.state = 'pending' ORDER BY p.kind LIMIT 1)
        UNION ALL
        SELECT (
            SELECT p.kind FROM {table} AS p
            WHERE p.state = 'pending' AND p.kind > k.kind
            ORDER BY p.kind
            LIMIT 1
        )
        FROM k
        WHERE k.kind IS NOT NULL
    )
    SELECT coalesce(array_agg(k.kind), '{}') FROM k WHERE k.kind IS NOT NULL
$$;

-- The claim of migration 3, plus the pause. With no paused kind among those asked for
-- (or none at all) the plan is the same as before. Otherwise each unpaused kind asked
-- for (every kind with pending jobs, for a claim of any kind) gives up to max_jobs of
-- its best jobs, and the best max_jobs of those are claimed; the rest stay pending (they
-- were locked, so concurrent claimers passed over them until this one committed). The
-- resume point is not used there: the kind index is read from the head of each kind.
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
    k text;
    r bigint;
    from_due timestamptz;
    from_id text;
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);

    paused := ARRAY(SELECT z.kind FROM {table}_paused AS z);

    IF cardinality(paused) > 0 AND (cardinality(kinds) = 0 OR kinds && paused) THEN
        IF cardinality(kinds) = 0 THEN
            kinds := {table}_pending_kinds();
        END IF;
        FOREACH k IN ARRAY kinds LOOP
            IF NOT k = ANY (paused) THEN
                picked := picked || {table}_claim_kind(k, max_jobs);
            END IF;
        END LOOP;
        -- The best of at most max_jobs per kind, from the primary key; an aggregate's
        -- ORDER BY sorts inside the aggregate, whatever enable_sort says.
        picked := (
            SELECT array_agg(p.id ORDER BY p.priority DESC, p.scheduled_at, p.id)
            FROM {table} AS p
            WHERE p.id = ANY (picked)
        );
        picked := coalesce(picked[1:max_jobs], '{}');
    ELSE
        -- Unchanged from migration 3 (see there).
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
    END IF;

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
