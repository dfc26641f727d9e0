-- Inserts one chunk of new jobs. `{rows}` becomes one `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
-- tuple per job, bound in the column order below (unique_key and unique_lock both get
-- the key). A chunk without concurrency keys binds ten values a job and `{key}` is NULL:
-- every bound value costs the insert, and most jobs have no key. The statement comes in a few fixed sizes, so each is prepared once per
-- connection; tuples past the batch's jobs are bound to NULL and filtered out by the
-- WHERE (which also keeps the upsert clause unambiguous after a SELECT).
-- A job whose unique key is held is skipped by the partial unique index; the caller then
-- reads the holder in the same transaction. A duplicate id still fails (primary key),
-- which rolls the batch back.
INSERT INTO {table} (
    id, kind, payload, priority, max_attempts, created_at, scheduled_at,
    unique_key, unique_lock, unique_until, concurrency_key, attempts, state
)
SELECT column1, column2, column3, column4, column5, column6, column7,
       column8, column9, column10, {key}, 0, 'pending'
FROM (VALUES {rows})
WHERE column1 IS NOT NULL
ON CONFLICT (unique_lock) WHERE unique_lock IS NOT NULL DO NOTHING
