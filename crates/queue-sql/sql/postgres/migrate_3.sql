-- Version 3: claims that cost the same at any backlog, and fewer index writes per job.
--
-- A claimed or finished job leaves a dead entry at the head of the claim index until
-- VACUUM removes it, and a claim that starts at the head steps over every one of them:
-- with a large backlog, the claims themselves made each next claim slower (5,800 index
-- pages walked per claim of 100 after 700k jobs). The claim can now resume after the last
-- job its process took (see postgres/resume.rs): the index descent lands there directly.
-- Row comparison needs every key column in one direction, so the index orders by the
-- negated priority (as bigint: -(-2^31) does not fit an integer).

-- Ids (ULIDs) and unique keys compare byte by byte: the "C" collation is both their true
-- order and much cheaper than a locale's for every index comparison. (This rewrites the
-- table once.)
ALTER TABLE {table}
    ALTER COLUMN id TYPE text COLLATE "C",
    ALTER COLUMN unique_lock TYPE text COLLATE "C";

DROP INDEX IF EXISTS {table}_pending_idx;
CREATE INDEX IF NOT EXISTS {table}_claim_idx
    ON {table} ((-(priority::bigint)), scheduled_at, id) WHERE state = 'pending';

-- The (state, id) index took a write on every state change, and was the largest index.
-- Lists of pending jobs read the primary key backwards, of running jobs the lease index;
-- finished jobs (most rows, when kept) have this one, written once per job.
DROP INDEX IF EXISTS {table}_state_idx;
CREATE INDEX IF NOT EXISTS {table}_final_idx
    ON {table} (state, id) WHERE state IN ('completed', 'failed', 'cancelled');

-- A queue table turns over all its rows: vacuum it after 1 % of them changed, not the
-- default 20 %, so dead rows and index entries do not pile up between runs.
ALTER TABLE {table} SET (
    autovacuum_vacuum_scale_factor = 0.01,
    autovacuum_vacuum_insert_scale_factor = 0.01,
    autovacuum_analyze_scale_factor = 0.02
);

DROP FUNCTION IF EXISTS {table}_claim(text[], bigint, float8);

-- The first rank (negated priority) with pending jobs, due or not, strictly between
-- `above` and `below`: one probe of the claim index, bounded on both sides. NULL when
-- there is none. The claim and next_due go down the ranks with it.
CREATE OR REPLACE FUNCTION {table}_rank_between(above bigint, below bigint)
RETURNS bigint
LANGUAGE plpgsql
STABLE
SET enable_sort = off
AS $$
BEGIN
    RETURN (
        SELECT -(p.priority::bigint)
        FROM {table} AS p
        WHERE p.state = 'pending'
          AND -(p.priority::bigint) > above
          AND -(p.priority::bigint) < below
        ORDER BY -(p.priority::bigint)
        LIMIT 1
    );
END;
$$;

-- Claims up to max_jobs due jobs of the given kinds (any kind when empty), best first.
--
-- The claim index orders by (rank, due time, id), rank being the negated priority. Within
-- one rank, due jobs come before jobs due later, so the claim reads one rank at a time:
-- `rank = r AND scheduled_at <= now()` is a range the index scan ends at, where a scan over
-- all ranks would step over every job scheduled for later (a million delayed jobs made
-- each claim read them all). Ranks are few; the next one is found with one index probe.
--
-- (after_rank, after_due, after_id) is where the caller's last full claim ended: the
-- point's own rank is read from just after it, skipping the dead entries that claimed
-- jobs leave before it until VACUUM removes them; higher priorities are read from their
-- head. NULLs mean no point.
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
-- The claim index yields rows in claim order; sorting is never the right plan (see
-- migration 2).
SET enable_sort = off
AS $$
DECLARE
    picked text[] := '{}';
    r bigint;
    from_due timestamptz;
    from_id text;
BEGIN
    -- A claim need not wait for its WAL to reach disk: should the database crash before
    -- it does, the claim is undone and the job simply runs again (at least once), and any
    -- later durable commit (the ack) flushes it first. Saves a disk flush per claim.
    PERFORM set_config('synchronous_commit', 'off', true);

    -- The first rank: the highest priority with pending jobs, looking no further than the
    -- point's rank (its head is what the point skips). Ranks lie within ±2^31, so ±2^32
    -- stand for "no bound".
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
        -- SKIP LOCKED lets concurrent claimers take different rows without waiting on
        -- each other.
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
        -- The next rank down. Before the point's rank, look only up to it: its head is
        -- what the point skips, and it is read from the point whether or not the probe
        -- would find it.
        IF after_rank IS NOT NULL AND r < after_rank THEN
            r := coalesce({table}_rank_between(r, after_rank), after_rank);
        ELSE
            r := {table}_rank_between(r, 4294967296);
        END IF;
    END LOOP;

    -- Each claim gets a fresh random token and a lease on the database clock. The ids go
    -- through an array so the update finds them by primary key.
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

-- Seconds until the next pending job of the given kinds (any kind when empty) falls due,
-- NULL when none is scheduled for later. Idle workers sleep until then instead of waiting
-- for their next poll. Like the claim, it reads one priority at a time, each from its
-- first job due after now.
CREATE OR REPLACE FUNCTION {table}_next_due(kinds text[])
RETURNS float8
LANGUAGE plpgsql
SET enable_sort = off
AS $$
DECLARE
    r bigint;
    due timestamptz;
    soonest timestamptz;
BEGIN
    r := {table}_rank_between(-4294967296, 4294967296);
    WHILE r IS NOT NULL LOOP
        SELECT p.scheduled_at INTO due
        FROM {table} AS p
        WHERE p.state = 'pending'
          AND -(p.priority::bigint) = r
          AND p.scheduled_at > now()
          AND (cardinality(kinds) = 0 OR p.kind = ANY (kinds))
        ORDER BY -(p.priority::bigint), p.scheduled_at, p.id
        LIMIT 1;
        IF due IS NOT NULL AND (soonest IS NULL OR due < soonest) THEN
            soonest := due;
        END IF;
        r := {table}_rank_between(r, 4294967296);
    END LOOP;
    RETURN extract(epoch FROM soonest - now());
END;
$$;
