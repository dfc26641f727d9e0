-- Inserts a batch given as one JSON array of objects (no bound-variable limit). A job
-- whose unique key is held is skipped; the caller looks up the holder.
-- ?1 the batch, ?2 now (µs). `WHERE true` keeps ON CONFLICT from parsing as a join.
INSERT INTO {table} (
    id, kind, payload, priority, attempts, max_attempts, state,
    created_at, scheduled_at, unique_key, unique_lock, unique_until
)
SELECT j.value ->> '$.id',
       j.value ->> '$.kind',
       j.value ->> '$.payload',
       j.value ->> '$.priority',
       0,
       j.value ->> '$.max_attempts',
       'pending',
       ?2,
       coalesce(j.value ->> '$.run_at', ?2 + coalesce(j.value ->> '$.delay_us', 0)),
       j.value ->> '$.unique_key',
       j.value ->> '$.unique_key',
       ?2 + (j.value ->> '$.window_us')
FROM json_each(?1) AS j
WHERE true
ON CONFLICT (unique_lock) WHERE unique_lock IS NOT NULL DO NOTHING
RETURNING id
