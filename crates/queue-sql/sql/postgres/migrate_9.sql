-- Version 9: the claim of a kind limited per key reads a window of its jobs in claim
-- order, rather than walking its keys one at a time.
--
-- The key walk of migration 8 costs several statements per key served, so a drain over
-- many keys took a few jobs per statement where the plain claim takes a range. Now the
-- claim reads the first due jobs of the kind in claim order, their keys' used room in one
-- statement, and takes in order the jobs whose key has room. Only when that window is
-- crowded out by keys at their limit does the claim fall back to the key walk, which
-- steps over such keys whatever their backlog.

-- As in migration 8, but a walk of the jobs without a key leaves the scan point alone:
-- it steps over the keyed jobs it does not take, which the window must still see.
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

    IF unkeyed THEN
        RETURN got;
    END IF;
    -- A full walk ends at its last job (the array is in claim order); a short one saw
    -- every due job of its last rank.
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

-- Takes up to `room` due jobs of kind k, limited per key, from a window of its first due
-- jobs in claim order; NULL when the window was full and yet yielded fewer: keys at their
-- limit crowd the head of the kind, and the key walk must find the rest. The caller holds
-- the lock on the kind's limits row and counts the kind-wide parts.
--
-- The window is read from the kind's scan point (see pick_kind) in two parts: `room`
-- jobs, locked as they are read, as the plain claim reads its jobs (the claim takes most
-- of them); then, only when keys at their limit left room unfilled, the rest, without
-- locks (a row lock writes to the row): of those only the picks are locked. The room of
-- each key is counted once, in the part where the key first shows. The point moves to
-- the last job of the window's taken head: the jobs it leaves behind are read again.
CREATE OR REPLACE FUNCTION {table}_take_window(
    k text, room bigint, key_concurrency bigint, key_rate_count bigint, key_rate_ms bigint
)
RETURNS text[]
LANGUAGE plpgsql
SET enable_sort = off
AS $$
DECLARE
    -- Room to step over some keys at their limit, not a scan of a long backlog.
    w integer := least(greatest(4 * room, 64), 1024);
    want integer;
    short boolean := false;
    ids text[] COLLATE "C" := '{}';
    keys text[] COLLATE "C" := '{}';
    got_ids text[] COLLATE "C";
    got_keys text[] COLLATE "C";
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
                       coalesce(array_agg(q.concurrency_key), '{}')
                INTO got_ids, got_keys
                FROM (
                    SELECT p.id, p.concurrency_key
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
                       coalesce(array_agg(q.concurrency_key), '{}')
                INTO got_ids, got_keys
                FROM (
                    SELECT p.id, p.concurrency_key
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
        -- expired) and its starts inside the rate window, one index probe each. A part
        -- the limit lacks is a one-time filter.
        SELECT coalesce(array_agg(u.key), '{}'),
               coalesce(array_agg(least(
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
               )), '{}')
        INTO new_keys, new_rooms
        FROM (
            SELECT DISTINCT x.key
            FROM unnest(keys[seen + 1:]) AS x (key)
            WHERE x.key IS NOT NULL AND NOT (x.key = ANY (room_keys))
        ) AS u;
        room_keys := room_keys || new_keys;
        rooms := rooms || new_rooms;

        -- Claim order; each pick counts against its key. `head` is how many of the
        -- window's first jobs were all picked.
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
        IF seen = 0 THEN
            c1 := c;
        END IF;
        seen := cardinality(ids);
        EXIT WHEN c >= room OR short OR seen >= w;

        -- The rest of the window goes on after the first part's last job.
        SELECT -(p.priority::bigint), p.scheduled_at, p.id
        INTO p_rank, p_due, p_id
        FROM {table} AS p
        WHERE p.id = ids[seen];
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
        SELECT -(p.priority::bigint), p.scheduled_at, p.id
        INTO at_rank, at_due, at_id
        FROM {table} AS p
        WHERE p.id = ids[head];
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

-- Takes up to n due jobs of the limited kind k that its limit lets start now, and records
-- their starts. The caller holds the lock on the kind's limits row, so no other claim
-- counts or takes the kind's jobs meanwhile; its counts see every claim committed before.
--
-- With per-key parts, the window first (take_window). When keys at their limit crowd
-- it, keys are served in rotation from the one after `last_key`, wrapping once, the jobs
-- without a key taking their turn between the last key and the first: each key gets up
-- to its own room, best jobs first, and keys at their limit are stepped over whatever
-- their backlog, one index probe each. The window leaves `last_key` alone.
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
        taken := {table}_take_window(
            k, room, lim.key_concurrency, lim.key_rate_count, lim.key_rate_ms
        );
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
