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

-- Claims up to max_jobs due jobs of the given kinds (any kind when empty), best first.
-- (after_rank, after_due, after_id) is where the caller's last full claim ended: jobs of
-- a higher priority than that point are always looked for from the head of their
-- priority (few, and a priority that was never claimed has no dead entries); jobs of the
-- same or a lower priority are looked for after that point. NULLs mean from the head.
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
    picked text[];
BEGIN
    IF after_rank IS NULL THEN
        -- Below every rank: the first pick finds nothing, the second starts at the head.
        after_rank := -9223372036854775808;
        after_due := '-infinity';
        after_id := '';
    END IF;
    -- A claim need not wait for its WAL to reach disk: should the database crash before
    -- it does, the claim is undone and the job simply runs again (at least once), and any
    -- later durable commit (the ack) flushes it first. Saves a disk flush per claim.
    PERFORM set_config('synchronous_commit', 'off', true);
    -- SKIP LOCKED lets concurrent claimers take different rows without waiting on each
    -- other.
    picked := ARRAY(
        SELECT p.id
        FROM {table} AS p
        WHERE p.state = 'pending'
          AND (-(p.priority::bigint)) < after_rank
          AND p.scheduled_at <= now()
          AND (cardinality(kinds) = 0 OR p.kind = ANY (kinds))
        ORDER BY (-(p.priority::bigint)), p.scheduled_at, p.id
        LIMIT max_jobs
        FOR UPDATE SKIP LOCKED
    );
    IF cardinality(picked) < max_jobs THEN
        picked := picked || ARRAY(
            SELECT p.id
            FROM {table} AS p
            WHERE p.state = 'pending'
              AND ((-(p.priority::bigint)), p.scheduled_at, p.id)
                  > ROW(after_rank, after_due, after_id)
              AND p.scheduled_at <= now()
              AND (cardinality(kinds) = 0 OR p.kind = ANY (kinds))
            ORDER BY (-(p.priority::bigint)), p.scheduled_at, p.id
            LIMIT max_jobs - cardinality(picked)
            FOR UPDATE SKIP LOCKED
        );
    END IF;
    -- Each claim gets a fresh random token and a lease on the database clock. The ids
    -- go through an array so the update finds them by primary key.
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
