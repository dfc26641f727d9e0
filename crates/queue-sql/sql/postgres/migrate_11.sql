-- Version 11: cheaper claims of a kind limited per key.
--
-- Migration 10's window counted each new key's running jobs and rate-window starts with a
-- subquery per key: an executor start and an index descent for every key of the window.
-- Now one statement counts them for all the keys by `= ANY`, which descends the index
-- once per key inside a single scan. For that the key leads the two per-key indexes: with
-- the kind first, a plan made while the table was small read every running job (and
-- start) of the kind and filtered on the key, which costs a claim in proportion to the
-- kind's running jobs and to the dead entries they leave behind. The claim told its
-- limited picks by comparing each claimed id with every id the limits took; the kind
-- tells it as well, for one comparison. And the claim's look at the limits rows is
-- planned once per connection, not at every claim.
--
-- The indexes are rebuilt inside the migration's transaction: a table of many rows is
-- read once to find its running keyed jobs, while writes to it wait.

DROP INDEX IF EXISTS {table}_key_running_idx;
CREATE INDEX {table}_key_running_idx
    ON {table} (concurrency_key, kind, lease_expires_at)
    WHERE state = 'running' AND concurrency_key IS NOT NULL;
DROP INDEX IF EXISTS {table}_starts_key_idx;
CREATE INDEX {table}_starts_key_idx ON {table}_starts (key, kind, at);

-- Migration 10's take_window (see there), the window's keys counted together.
CREATE OR REPLACE FUNCTION {table}_take_window(lim {table}_limits, room bigint)
RETURNS text[]
LANGUAGE plpgsql
SET enable_sort = off
AS $$
DECLARE
    k text := lim.kind;
    key_concurrency bigint := lim.key_concurrency;
    key_rate_count bigint := lim.key_rate_count;
    key_rate_ms bigint := lim.key_rate_ms;
    -- Room to step over some keys at their limit, not a scan of a long backlog.
    w integer := least(greatest(4 * room, 64), 1024);
    want integer;
    short boolean := false;
    fits boolean;
    ids text[] COLLATE "C" := '{}';
    keys text[] COLLATE "C" := '{}';
    ranks bigint[] := '{}';
    dues timestamptz[] := '{}';
    got_ids text[] COLLATE "C";
    got_keys text[] COLLATE "C";
    got_ranks bigint[];
    got_dues timestamptz[];
    room_keys text[] COLLATE "C" := '{}';
    rooms bigint[] := '{}';
    new_keys text[] COLLATE "C";
    new_rooms bigint[];
    picks text[] COLLATE "C";
    taken text[] COLLATE "C" := '{}';
    c integer := 0;
    -- Picks of the first part, locked already.
    c1 integer;
    head integer := 0;
    seen integer := 0;
    i integer;
    j integer;
    r bigint;
    last_r bigint;
    from_due timestamptz;
    from_id text;
    -- Where the reading goes on from: the scan point, then the end of the first part.
    p_rank bigint;
    p_due timestamptz;
    p_id text COLLATE "C";
    at_rank bigint := lim.scan_rank;
    at_due timestamptz := lim.scan_due;
    at_id text COLLATE "C" := lim.scan_id;
    since timestamptz := lim.scan_since;
BEGIN
    IF since IS NULL OR since <= now() - interval '1 second' THEN
        at_rank := NULL;
        at_due := NULL;
        at_id := NULL;
        since := now();
    END IF;
    p_rank := at_rank;
    p_due := at_due;
    p_id := at_id;
    r := coalesce(
        {table}_rank_between(-4294967296, coalesce(p_rank, 4294967296)),
        p_rank
    );
    picks := array_fill(NULL::text, ARRAY[least(room, w)::integer]);

    LOOP
        want := CASE WHEN seen = 0 THEN least(room, w) ELSE w - seen END;
        -- A rank at a time, as pick_kind reads them.
        WHILE r IS NOT NULL AND cardinality(ids) < seen + want LOOP
            IF r = p_rank THEN
                from_due := p_due;
                from_id := p_id;
            ELSE
                from_due := '-infinity';
                from_id := '';
            END IF;
            IF seen = 0 THEN
                SELECT coalesce(array_agg(q.id), '{}'),
                       coalesce(array_agg(q.concurrency_key), '{}'),
                       coalesce(array_agg(q.rank), '{}'),
                       coalesce(array_agg(q.scheduled_at), '{}')
                INTO got_ids, got_keys, got_ranks, got_dues
                FROM (
                    SELECT p.id, p.concurrency_key, -(p.priority::bigint) AS rank,
                           p.scheduled_at
                    FROM {table} AS p
                    WHERE p.state = 'pending'
                      AND -(p.priority::bigint) = r
                      AND p.scheduled_at <= now()
                      AND (p.scheduled_at, p.id) > (from_due, from_id)
                      AND p.kind = k
                    ORDER BY -(p.priority::bigint), p.scheduled_at, p.id
                    LIMIT seen + want - cardinality(ids)
                    FOR UPDATE SKIP LOCKED
                ) AS q;
            ELSE
                SELECT coalesce(array_agg(q.id), '{}'),
                       coalesce(array_agg(q.concurrency_key), '{}'),
                       coalesce(array_agg(q.rank), '{}'),
                       coalesce(array_agg(q.scheduled_at), '{}')
                INTO got_ids, got_keys, got_ranks, got_dues
                FROM (
                    SELECT p.id, p.concurrency_key, -(p.priority::bigint) AS rank,
                           p.scheduled_at
                    FROM {table} AS p
                    WHERE p.state = 'pending'
                      AND -(p.priority::bigint) = r
                      AND p.scheduled_at <= now()
                      AND (p.scheduled_at, p.id) > (from_due, from_id)
                      AND p.kind = k
                    ORDER BY -(p.priority::bigint), p.scheduled_at, p.id
                    LIMIT seen + want - cardinality(ids)
                ) AS q;
            END IF;
            ids := ids || got_ids;
            keys := keys || got_keys;
            ranks := ranks || got_ranks;
            dues := dues || got_dues;
            last_r := r;
            EXIT WHEN cardinality(ids) >= seen + want;
            IF p_rank IS NOT NULL AND r < p_rank THEN
                r := coalesce({table}_rank_between(r, p_rank), p_rank);
            ELSE
                r := {table}_rank_between(r, 4294967296);
            END IF;
        END LOOP;
        short := cardinality(ids) < seen + want;

        -- The room left to each key new to the window: its running jobs (leases not
        -- expired) and its starts inside the rate window, each counted for all the keys
        -- in one index scan (a descent per key), a part the limit lacks skipped by a
        -- one-time filter. And whether every key has room for all of its jobs here, as
        -- in a drain over many keys: then the part is taken whole.
        WITH u AS MATERIALIZED (
            SELECT x.key, count(*) AS n
            FROM unnest(keys[seen + 1:]) AS x (key)
            WHERE x.key IS NOT NULL AND NOT (x.key = ANY (room_keys))
            GROUP BY x.key
        ), running AS (
            SELECT a.concurrency_key AS key, count(*) AS n
            FROM {table} AS a
            WHERE key_concurrency IS NOT NULL
              AND a.state = 'running'
              AND a.concurrency_key IS NOT NULL
              AND a.kind = k
              AND a.concurrency_key = ANY (ARRAY(SELECT u.key FROM u))
              -- Written so that no index range serves it: not the lease index's.
              AND a.lease_expires_at - now() > interval '0'
            GROUP BY a.concurrency_key
        ), started AS (
            SELECT s.key, count(*) AS n
            FROM {table}_starts AS s
            WHERE key_rate_count IS NOT NULL
              AND s.kind = k
              AND s.key = ANY (ARRAY(SELECT u.key FROM u))
              -- Likewise not the range of the kind's starts by time.
              AND s.at - now() > -key_rate_ms * interval '1 millisecond'
            GROUP BY s.key
        ), v AS (
            SELECT u.key, u.n, least(
                coalesce(key_concurrency - coalesce(running.n, 0), room),
                coalesce(key_rate_count - coalesce(started.n, 0), room)
            ) AS room_left
            FROM u
            LEFT JOIN running ON running.key = u.key
            LEFT JOIN started ON started.key = u.key
        )
        SELECT coalesce(array_agg(v.key), '{}'),
               coalesce(array_agg(v.room_left), '{}'),
               coalesce(bool_and(v.n <= v.room_left), true)
        INTO new_keys, new_rooms, fits
        FROM v;
        room_keys := room_keys || new_keys;
        rooms := rooms || new_rooms;

        -- Claim order; each pick counts against its key. `head` is how many of the
        -- window's first jobs were all picked. The first part (at most `room` jobs) taken
        -- whole fills the claim or saw every due job: no later part follows.
        IF seen = 0 AND fits THEN
            picks := ids;
            c := cardinality(ids);
            head := c;
        ELSE
            FOR i IN seen + 1 .. cardinality(ids) LOOP
                EXIT WHEN c >= room;
                IF keys[i] IS NULL THEN
                    c := c + 1;
                    picks[c] := ids[i];
                ELSE
                    j := array_position(room_keys, keys[i]);
                    IF rooms[j] > 0 THEN
                        rooms[j] := rooms[j] - 1;
                        c := c + 1;
                        picks[c] := ids[i];
                    END IF;
                END IF;
                IF c = i THEN
                    head := i;
                END IF;
            END LOOP;
        END IF;
        IF seen = 0 THEN
            c1 := c;
        END IF;
        seen := cardinality(ids);
        EXIT WHEN c >= room OR short OR seen >= w;

        -- The rest of the window goes on after the first part's last job.
        p_rank := ranks[seen];
        p_due := dues[seen];
        p_id := ids[seen];
        r := p_rank;
    END LOOP;
    IF c < room AND NOT short THEN
        RETURN NULL;
    END IF;

    -- The first part's picks were locked as it was read. A later pick another
    -- transaction holds, or that left the pending state since the read, is not taken. The
    -- locked rows are checked after the locking scan (MATERIALIZED: not pushed into it),
    -- which then can only be by primary key: a generic plan from an estimate of a small
    -- table read the whole claim index here, to find a few ids.
    taken := picks[1:c1];
    IF c > c1 THEN
        taken := taken || ARRAY(
            WITH l AS MATERIALIZED (
                SELECT p.id, p.state, p.kind, p.scheduled_at
                FROM {table} AS p
                WHERE p.id = ANY (picks[c1 + 1:c])
                FOR UPDATE SKIP LOCKED
            )
            SELECT l.id
            FROM l
            WHERE l.state = 'pending' AND l.kind = k AND l.scheduled_at <= now()
        );
    END IF;
    IF cardinality(taken) < c THEN
        i := 0;
        WHILE i < head AND picks[i + 1] = ANY (taken) LOOP
            i := i + 1;
        END LOOP;
        head := i;
    END IF;

    -- Taken whole and short, the window saw every due job of its last rank.
    IF head = seen AND short THEN
        IF last_r IS NOT NULL THEN
            at_rank := last_r;
            at_due := now();
            at_id := '';
        END IF;
    ELSIF head > 0 THEN
        at_rank := ranks[head];
        at_due := dues[head];
        at_id := ids[head];
    END IF;
    UPDATE {table}_limits AS l
    SET scan_rank = at_rank, scan_due = at_due, scan_id = at_id, scan_since = since
    WHERE l.kind = k;

    IF key_rate_count IS NOT NULL AND cardinality(taken) > 0 THEN
        INSERT INTO {table}_starts (kind, key, at)
        SELECT k, x.key, now()
        FROM unnest(ids, keys) AS x (id, key)
        WHERE x.key IS NOT NULL AND x.id = ANY (taken);
    END IF;
    RETURN taken;
END;
$$;

-- Migration 10's claim, telling limited picks by their kind, its plans made once.
CREATE OR REPLACE FUNCTION {table}_claim(
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
-- Its statements, and those of the functions it calls, are planned once per connection.
-- Left to choose, Postgres planned the look at the limits rows anew at every claim: the
-- plan for the kinds given beat any plan for kinds not yet known.
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    picked text[] := '{}';
    held text[] := '{}';
    paused text[];
    limited_kinds text[];
    -- The limited kinds this claim took jobs for, under their rows' locks.
    took_kinds text[] := '{}';
    lim {table}_limits%ROWTYPE;
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
        FOR lim IN
            SELECT l.*
            FROM {table}_limits AS l
            WHERE (cardinality(kinds) = 0 OR l.kind = ANY (kinds))
              AND NOT (l.kind = ANY (paused))
            ORDER BY l.kind
            FOR UPDATE SKIP LOCKED
        LOOP
            EXIT WHEN cardinality(held) >= max_jobs;
            held := held || {table}_take_limited(lim, max_jobs - cardinality(held));
            took_kinds := took_kinds || lim.kind;
        END LOOP;
        picked := held;
        -- A limit stored since the first look is left to the next claim too.
        limited_kinds := limited_kinds || took_kinds;
    END IF;

    -- The rank probe too is left out when the limited kinds filled the claim.
    IF cardinality(picked) < max_jobs THEN
        r := coalesce(
            {table}_rank_between(-4294967296, coalesce(after_rank, 4294967296)),
            after_rank
        );
    END IF;
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
    -- point (postgres/resume.rs) follows the plain scan alone. The plain scan passes over
    -- every kind the loop took jobs for: a job is a limited pick by its kind alone.
    RETURN QUERY
    UPDATE {table} AS j
    SET state            = 'running',
        attempts         = j.attempts + 1,
        claim_token      = (random() * 9.0e18)::bigint,
        lease_expires_at = now() + make_interval(secs => lease_secs)
    WHERE j.id = ANY (picked)
    RETURNING j.id, j.kind, j.payload::text, j.priority, j.attempts, j.max_attempts,
              j.state, j.created_at, j.scheduled_at, j.unique_key, j.last_error,
              j.claim_token, j.lease_expires_at, j.concurrency_key, j.kind = ANY (took_kinds);
END;
$$;
