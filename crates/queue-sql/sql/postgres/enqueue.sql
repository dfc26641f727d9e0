-- Inserts a batch given as parallel arrays. A job whose unique key is held by another job
-- is skipped (ON CONFLICT on the unique index); the caller looks up the holder, so
-- nothing is returned.
-- $6 is an absolute run time or NULL; $7 a delay in seconds from the database's now();
-- $10 the concurrency key or NULL.
--
-- The inserted jobs are counted here, once per statement, rather than by a trigger over
-- a transition table of every inserted row (migration 5), which cost a tenth of the
-- bulk insert rate.
WITH inserted AS (
    INSERT INTO {table} (
        id, kind, payload, priority, attempts, max_attempts, state,
        created_at, scheduled_at, unique_key, unique_lock, unique_until, concurrency_key
    )
    SELECT j.id, j.kind, j.payload::jsonb, j.priority, 0, j.max_attempts, 'pending',
           now(),
           coalesce(j.run_at, now() + make_interval(secs => coalesce(j.delay_s, 0))),
           j.unique_key, j.unique_key,
           now() + make_interval(secs => j.window_s), j.concurrency_key
    FROM unnest(
        $1::text[], $2::text[], $3::text[], $4::integer[], $5::integer[],
        $6::timestamptz[], $7::float8[], $8::text[], $9::float8[], $10::text[]
    ) AS j(
        id, kind, payload, priority, max_attempts, run_at, delay_s, unique_key, window_s,
        concurrency_key
    )
    ON CONFLICT (unique_lock) WHERE unique_lock IS NOT NULL DO NOTHING
    RETURNING 1
)
INSERT INTO {table}_counts (state, n)
SELECT 'pending', count(*) FROM inserted HAVING count(*) > 0
