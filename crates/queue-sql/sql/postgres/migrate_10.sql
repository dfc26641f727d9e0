-- Version 10: less work per claim of a kind limited per key, most of all when its window
-- is taken whole (a drain over many keys).
--
-- Migration 9's claim read the kind's limits row three times (the lock, the limit, the
-- scan point), looked up the window's last job by id to move the scan point, probed the
-- running jobs of each key in the window, and went over the window job by job, even when
-- every key had room for all of its jobs. Now the locked row is handed down, the window
-- carries each job's claim-order position, and a part whose keys all have room is taken
-- whole.

-- Migration 9's take_window (see there), given the kind's limits row, locked by the
-- caller, in place of its parts.
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
        -- expired) and its starts inside the rate window, one index probe each (a part
        -- the limit lacks is a one-time filter). And whether every key has room for all
        -- of its jobs here, as in a drain over many keys: then the part is taken whole.
        WITH v AS MATERIALIZED (
            SELECT u.key, u.n, least(
                coalesce(key_concurrency - (
                    SELECT count(*)
                    FROM {table} AS a
                    WHERE key_concurrency IS NOT NULL
                      AND a.state = 'running'
                      AND a.concurrency_key IS NOT NULL
                      AND a.kind = k
                      AND a.concurrency_key = u.key
                      AND a.lease_expires_at > now()
                ), room),
                coalesce(key_rate_count - (
                    SELECT count(*)
                    FROM {table}_starts AS s
                    WHERE key_rate_count IS NOT NULL
                      AND s.kind = k
                      AND s.key = u.key
                      AND s.at > now() - key_rate_ms * interval '1 millisecond'
                ), room)
            ) AS room_left
            FROM (
                SELECT x.key, count(*) AS n
                FROM unnest(keys[seen + 1:]) AS x (key)
                WHERE x.key IS NOT NULL AND NOT (x.key = ANY (room_keys))
                GROUP BY x.key
            ) AS u
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

-- Migration 9's take_limited (see there), given the kind's limits row, locked by the
-- caller, in place of its name.
CREATE OR REPLACE FUNCTION {table}_take_limited(lim {table}_limits, n bigint)
RETURNS text[]
LANGUAGE plpgsql
SET enable_sort = off
AS $$
DECLARE
    k text := lim.kind;
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
        taken := {table}_take_window(lim, room);
    END IF;
    IF taken IS NULL THEN
        taken := '{}';
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

-- The claim of migration 8, handing the locked limits row to take_limited.
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
AS $$
DECLARE
    picked text[] := '{}';
    held text[] := '{}';
    paused text[];
    limited_kinds text[];
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
        END LOOP;
        picked := held;
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

-- Superseded by the functions above, which take the limits row.
DROP FUNCTION IF EXISTS {table}_take_limited(text, bigint);
DROP FUNCTION IF EXISTS {table}_take_window(text, bigint, bigint, bigint, bigint);
