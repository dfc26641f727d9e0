-- Inserts one chunk of new jobs. `{rows}` becomes one
-- `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 'pending')` tuple per job, bound in the column
-- order below (unique_key and unique_lock both get the key). A job whose unique key is
-- held is skipped by the partial unique index; the caller then reads the holder in the
-- same transaction. A duplicate id still fails (primary key), which rolls the batch back.
INSERT INTO {table} (
    id, kind, payload, priority, max_attempts, created_at, scheduled_at,
    unique_key, unique_lock, unique_until, attempts, state
)
VALUES {rows}
ON CONFLICT (unique_lock) WHERE unique_lock IS NOT NULL DO NOTHING
