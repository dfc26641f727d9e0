-- Version 8: concurrency and rate limits per kind (`Queue::set_limit`), enforced by the
-- claim of every process.
--
-- A limited kind's jobs stay in the claim index; the plain scan passes over them (like
-- paused ones) and the claim takes them first, kind by kind, under a lock on the kind's
-- limits row, so claimers of every process count the same running jobs and starts. When
-- no limit applies to the kinds claimed, the claim is that of migration 4 plus a look at
-- the (empty) limits table, read in the same statement as the paused kinds.

-- The group of a job for per-key limits; NULL for most jobs. Compared byte by byte, like
-- ids. Adding a nullable column without a default rewrites nothing.
ALTER TABLE {table} ADD COLUMN IF NOT EXISTS concurrency_key text COLLATE "C";

-- Partial indexes: jobs without a key write neither.
-- Due jobs of one key in claim order, and the walk from key to key (a skip scan).
CREATE INDEX IF NOT EXISTS {table}_key_pending_idx
    ON {table} (kind, concurrency_key, (-(priority::bigint)), scheduled_at, id)
    WHERE state = 'pending' AND concurrency_key IS NOT NULL;
-- Running jobs of one key, with their leases: an expired lease frees its slot.
CREATE INDEX IF NOT EXISTS {table}_key_running_idx
    ON {table} (kind, concurrency_key, lease_expires_at)
    WHERE state = 'running' AND concurrency_key IS NOT NULL;

-- One row per limited kind; a NULL part limits nothing. Counts are bigint: a u32 limit
-- does not fit an integer. `last_key` is the rotation cursor of per-key limits: the key
-- served last ('' for the jobs without a key), so the next claim starts after it. The
-- `scan_*` columns are where the last walk for the kind's jobs ended (see pick_kind).
CREATE TABLE IF NOT EXISTS {table}_limits (
    kind            text   PRIMARY KEY,
    concurrency     bigint,
    key_concurrency bigint,
    rate_count      bigint,
    rate_ms         bigint,
    key_rate_count  bigint,
    key_rate_ms     bigint,
    last_key        text   COLLATE "C",
    scan_rank       bigint,
    scan_due        timestamptz,
    scan_id         text   COLLATE "C",
    scan_since      timestamptz
);

-- Every claim of a limited kind updates its row.
ALTER TABLE {table}_limits SET (
    autovacuum_vacuum_scale_factor = 0,
    autovacuum_vacuum_threshold = 1000
);

-- Recent starts of rate-limited kinds, for a sliding window: a start at `at` counts while
-- now() - period < at. `key` is '' for the kind-wide rate. Rows whose window is over are
-- deleted by the next claim of the kind, and with the limit.
CREATE TABLE IF NOT EXISTS {table}_starts (
    kind text        NOT NULL,
    key  text        COLLATE "C" NOT NULL DEFAULT '',
    at   timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS {table}_starts_key_idx ON {table}_starts (kind, key, at);
CREATE INDEX IF NOT EXISTS {table}_starts_at_idx ON {table}_starts (kind, at);

-- The starts table turns over completely within each window.
ALTER TABLE {table}_starts SET (
    autovacuum_vacuum_scale_factor = 0,
    autovacuum_vacuum_threshold = 1000
);

-- Up to n due jobs of kind k in claim order (only those without a key when `unkeyed`),
-- locked: one rank at a time, as the claim of migration 3 reads them. There is no index
-- by kind (every enqueue would write it), so a walk steps over the other kinds' jobs
-- ahead, and over the dead entries of claimed jobs. A kind with few jobs in a large
-- backlog would pay that on every claim: like a process's resume point (resume.rs), the
-- kind's limits row keeps where its walk ended (`scan_*`), and the next walk goes on
-- from there in that rank (higher ranks are read from their head), for a second after
-- the last walk from the head. What it can miss meanwhile, and for at most that long, is
-- what a resume point misses: a job put before the point (a due time given in the past,
-- an insert committed late). The caller holds the lock on the limits row.
CREATE OR REPLACE FUNCTION {table}_pick_kind(k text, unkeyed boolean, n bigint)
RETURNS text[]
LANGUAGE plpgsql
SET enable_sort = off
AS $$
DECLARE
    got text[] := '{}';
    r bigint;
    last_r bigint;
    from_due timestamptz;
    from_id text;
    at_rank bigint;
    at_due timestamptz;
    at_id text COLLATE "C";
    since timestamptz;
BEGIN
    SELECT l.scan_rank, l.scan_due, l.scan_id, l.scan_since
    INTO at_rank, at_due, at_id, since
    FROM {table}_limits AS l
    WHERE l.kind = k;
    IF since IS NULL OR since <= now() - interval '1 second' THEN
        at_rank := NULL;
        at_due := NULL;
        at_id := NULL;
        since := now();
    END IF;

    r := coalesce(
        {table}_rank_between(-4294967296, coalesce(at_rank, 4294967296)),
        at_rank
    );
    WHILE r IS NOT NULL AND cardinality(got) < n LOOP
        IF r = at_rank THEN
            from_due := at_due;
            from_id := at_id;
        ELSE
            from_due := '-infinity';
            from_id := '';
        END IF;
        got := got || ARRAY(
            SELECT p.id
            FROM {table} AS p
            WHERE p.state = 'pending'
              AND -(p.priority::bigint) = r
              AND p.scheduled_at <= now()
              AND (p.scheduled_at, p.id) > (from_due, from_id)
              AND p.kind = k
              AND (NOT unkeyed OR p.concurrency_key IS NULL)
            ORDER BY -(p.priority::bigint), p.scheduled_at, p.id
            LIMIT n - cardinality(got)
            FOR UPDATE SKIP LOCKED
        );
        last_r := r;
        IF at_rank IS NOT NULL AND r < at_rank THEN
            r := coalesce({table}_rank_between(r, at_rank), at_rank);
        ELSE
            r := {table}_rank_between(r, 4294967296);
        END IF;
    END LOOP;

    -- A full walk ends at its last job (the array is in claim order: a sort here, with
    -- sorting disabled, would cost enough to be compiled by JIT); a short one saw every
    -- due job of its last rank.
    IF cardinality(got) >= n THEN
        SELECT -(j.priority::bigint), j.scheduled_at, j.id
        INTO at_rank, at_due, at_id
        FROM {table} AS j
        WHERE j.id = got[cardinality(got)];
    ELSIF last_r IS NOT NULL THEN
        at_rank := last_r;
        at_due := now();
        at_id := '';
    END IF;
    UPDATE {table}_limits AS l
    SET scan_rank = at_rank, scan_due = at_due, scan_id = at_id, scan_since = since
    WHERE l.kind = k;
    RETURN got;
END;
$$;

-- Takes up to n due jobs of the limited kind k that its limit lets start now, and records
-- their starts. The caller holds the lock on the kind's limits row, so no other claim
-- counts or takes the kind's jobs meanwhile; its counts see every claim committed before.
--
-- With per-key parts, keys are served in rotation from the one after `last_key`,
-- wrapping once, the jobs without a key taking their turn between the last key and the
-- first: each key gets up to its own room, best jobs first, and keys at their limit are
-- stepped over whatever their backlog, one index probe each.
CREATE OR REPLACE FUNCTION {table}_take_limited(k text, n bigint)
RETURNS text[]
LANGUAGE plpgsql
SET enable_sort = off
AS $$
DECLARE
    lim {table}_limits%ROWTYPE;
    taken text[] := '{}';
    got text[];
    room bigint := n;
    key_room bigint;
    start_key text COLLATE "C";
    slot text COLLATE "C";
    nxt text COLLATE "C";
    wrapped boolean := false;
    served text COLLATE "C";
BEGIN
    SELECT * INTO lim FROM {table}_limits AS l WHERE l.kind = k;
    IF NOT FOUND THEN
        RETURN taken;
    END IF;

    IF lim.rate_ms IS NOT NULL OR lim.key_rate_ms IS NOT NULL THEN
        DELETE FROM {table}_starts AS s
        WHERE s.kind = k
          AND s.at <= now() - greatest(lim.rate_ms, lim.key_rate_ms) * interval '1 millisecond';
    END IF;

    -- Kind-wide room: running jobs whose lease has not expired, starts in the window.
    IF lim.concurrency IS NOT NULL THEN
        room := least(room, lim.concurrency - (
            SELECT count(*) FROM {table} AS r
            WHERE r.state = 'running' AND r.kind = k AND r.lease_expires_at > now()
        ));
    END IF;
    IF lim.rate_count IS NOT NULL THEN
        room := least(room, lim.rate_count - (
            SELECT count(*) FROM {table}_starts AS s
            WHERE s.kind = k AND s.key = ''
              AND s.at > now() - lim.rate_ms * interval '1 millisecond'
        ));
    END IF;
    IF room <= 0 THEN
        RETURN taken;
    END IF;

    IF lim.key_concurrency IS NULL AND lim.key_rate_count IS NULL THEN
        taken := {table}_pick_kind(k, false, room);
    ELSE
        start_key := coalesce(lim.last_key, '');
        slot := start_key;
        LOOP
            EXIT WHEN cardinality(taken) >= room;
            -- The next key with pending jobs: one probe of the pending keyed index.
            nxt := (
                SELECT min(p.concurrency_key)
                FROM {table} AS p
                WHERE p.state = 'pending'
                  AND p.concurrency_key IS NOT NULL
                  AND p.kind = k
                  AND p.concurrency_key > slot
            );
            IF nxt IS NULL THEN
                EXIT WHEN wrapped;
                wrapped := true;
                nxt := '';
            END IF;
            -- Once round: the start is served last.
            EXIT WHEN wrapped AND nxt > start_key;
            slot := nxt;
            got := '{}';
            IF slot = '' THEN
                got := {table}_pick_kind(k, true, room - cardinality(taken));
            ELSE
                key_room := room - cardinality(taken);
                IF lim.key_concurrency IS NOT NULL THEN
                    key_room := least(key_room, lim.key_concurrency - (
                        SELECT count(*) FROM {table} AS r
                        WHERE r.state = 'running' AND r.concurrency_key IS NOT NULL
                          AND r.kind = k AND r.concurrency_key = slot
                          AND r.lease_expires_at > now()
                    ));
                END IF;
                IF lim.key_rate_count IS NOT NULL THEN
                    key_room := least(key_room, lim.key_rate_count - (
                        SELECT count(*) FROM {table}_starts AS s
                        WHERE s.kind = k AND s.key = slot
                          AND s.at > now() - lim.key_rate_ms * interval '1 millisecond'
                    ));
                END IF;
                IF key_room > 0 THEN
                    got := ARRAY(
                        SELECT p.id
                        FROM {table} AS p
                        WHERE p.state = 'pending'
                          AND p.concurrency_key IS NOT NULL
                          AND p.kind = k
                          AND p.concurrency_key = slot
                          AND p.scheduled_at <= now()
                        ORDER BY p.kind, p.concurrency_key, -(p.priority::bigint),
                                 p.scheduled_at, p.id
                        LIMIT key_room
                        FOR UPDATE SKIP LOCKED
                    );
                    IF lim.key_rate_count IS NOT NULL AND cardinality(got) > 0 THEN
                        INSERT INTO {table}_starts (kind, key, at)
                        SELECT k, slot, now() FROM generate_series(1, cardinality(got));
                    END IF;
                END IF;
            END IF;
            IF cardinality(got) > 0 THEN
                taken := taken || got;
                served := slot;
            END IF;
        END LOOP;
        IF served IS NOT NULL THEN
            UPDATE {table}_limits AS l SET last_key = served WHERE l.kind = k;
        END IF;
    END IF;

    IF lim.rate_count IS NOT NULL AND cardinality(taken) > 0 THEN
        INSERT INTO {table}_starts (kind, key, at)
        SELECT k, '', now() FROM generate_series(1, cardinality(taken));
    END IF;
    RETURN taken;
END;
$$;

-- The claim of migration 4 (see there and migration 3), plus the limits and the
-- concurrency key. The result gains columns, so the function is made anew.
DROP FUNCTION IF EXISTS {table}_claim(text[], bigint, float8, bigint, timestamptz, text);
CREATE FUNCTION {table}_claim(
    kinds text[], max_jobs bigint, lease_secs float8,
    after_rank bigint, after_due timestamptz, after_id text
)
RETURNS TABLE (
    id text, kind text, payload text, priority integer, attempts integer,
    max_attempts integer, state text, created_at timestamptz, scheduled_at timestamptz,
    unique_key text, last_error text, claim_token bigint, lease_expires_at timestamptz,
    concurrency_key text, limited_pick boolean
)
LANGUAGE plpgsql
SET enable_sort = off
AS $$
DECLARE
    picked text[] := '{}';
    held text[] := '{}';
    paused text[];
    limited_kinds text[];
    k text;
    r bigint;
    from_due timestamptz;
    from_id text;
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);

    SELECT ARRAY(SELECT z.kind FROM {table}_paused AS z),
           ARRAY(SELECT l.kind FROM {table}_limits AS l)
    INTO paused, limited_kinds;
    IF cardinality(kinds) > 0 AND kinds <@ paused THEN
        RETURN;
    END IF;

    -- Limited kinds first, so a flood of other work never starves them. A kind whose
    -- row another claim holds is skipped, not waited on: that claim takes its room.
    IF cardinality(limited_kinds) > 0 THEN
        FOR k IN
            SELECT l.kind
            FROM {table}_limits AS l
            WHERE (cardinality(kinds) = 0 OR l.kind = ANY (kinds))
              AND NOT (l.kind = ANY (paused))
            ORDER BY l.kind
            FOR UPDATE SKIP LOCKED
        LOOP
            EXIT WHEN cardinality(held) >= max_jobs;
            held := held || {table}_take_limited(k, max_jobs - cardinality(held));
        END LOOP;
        picked := held;
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
              AND NOT (p.kind = ANY (limited_kinds))
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

    -- `limited_pick` tells the caller which jobs the plain scan did not take, so its resume
    -- point (postgres/resume.rs) follows the plain scan alone.
    RETURN QUERY
    UPDATE {table} AS j
    SET state            = 'running',
        attempts         = j.attempts + 1,
        claim_token      = (random() * 9.0e18)::bigint,
        lease_expires_at = now() + make_interval(secs => lease_secs)
    WHERE j.id = ANY (picked)
    RETURNING j.id, j.kind, j.payload::text, j.priority, j.attempts, j.max_attempts,
              j.state, j.created_at, j.scheduled_at, j.unique_key, j.last_error,
              j.claim_token, j.lease_expires_at, j.concurrency_key, j.id = ANY (held);
END;
$$;

-- Per limited kind: its running jobs (leases not expired) and its due pending jobs that
-- a claim would not take now only because of the limit (0 for a paused kind). Counts
-- the kind's due jobs: a scan of them.
CREATE OR REPLACE FUNCTION {table}_limit_stats()
RETURNS TABLE (kind text, running bigint, waiting bigint)
LANGUAGE plpgsql
AS $$
DECLARE
    lim {table}_limits%ROWTYPE;
    due bigint;
    room bigint;
    take bigint;
BEGIN
    FOR lim IN SELECT * FROM {table}_limits AS l ORDER BY l.kind COLLATE "C" LOOP
        kind := lim.kind;
        running := (
            SELECT count(*) FROM {table} AS r
            WHERE r.state = 'running' AND r.kind = lim.kind AND r.lease_expires_at > now()
        );
        IF EXISTS (SELECT 1 FROM {table}_paused AS z WHERE z.kind = lim.kind) THEN
            waiting := 0;
            RETURN NEXT;
            CONTINUE;
        END IF;
        due := (
            SELECT count(*) FROM {table} AS p
            WHERE p.state = 'pending' AND p.kind = lim.kind AND p.scheduled_at <= now()
        );
        room := due;
        IF lim.concurrency IS NOT NULL THEN
            room := least(room, lim.concurrency - running);
        END IF;
        IF lim.rate_count IS NOT NULL THEN
            room := least(room, lim.rate_count - (
                SELECT count(*) FROM {table}_starts AS s
                WHERE s.kind = lim.kind AND s.key = ''
                  AND s.at > now() - lim.rate_ms * interval '1 millisecond'
            ));
        END IF;
        IF lim.key_concurrency IS NULL AND lim.key_rate_count IS NULL THEN
            take := room;
        ELSE
            take := least(room, (
                SELECT count(*) FROM {table} AS p
                WHERE p.state = 'pending' AND p.kind = lim.kind
                  AND p.scheduled_at <= now() AND p.concurrency_key IS NULL
            ) + coalesce((
                SELECT sum(greatest(0, least(
                    d.n,
                    coalesce(lim.key_concurrency - (
                        SELECT count(*) FROM {table} AS r
                        WHERE r.state = 'running' AND r.concurrency_key IS NOT NULL
                          AND r.kind = lim.kind AND r.concurrency_key = d.key
                          AND r.lease_expires_at > now()
                    ), d.n),
                    coalesce(lim.key_rate_count - (
                        SELECT count(*) FROM {table}_starts AS s
                        WHERE s.kind = lim.kind AND s.key = d.key
                          AND s.at > now() - lim.key_rate_ms * interval '1 millisecond'
                    ), d.n)
                )))
                FROM (
                    SELECT p.concurrency_key AS key, count(*) AS n
                    FROM {table} AS p
                    WHERE p.state = 'pending' AND p.concurrency_key IS NOT NULL
                      AND p.kind = lim.kind AND p.scheduled_at <= now()
                    GROUP BY p.concurrency_key
                ) AS d
            ), 0));
        END IF;
        waiting := due - greatest(take, 0);
        RETURN NEXT;
    END LOOP;
END;
$$;
