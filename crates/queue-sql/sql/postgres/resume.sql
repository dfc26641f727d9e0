-- Resumes kind $1 and wakes listeners on channel $2 (the table's), so idle workers of
-- every process claim its jobs now. The NOTIFY goes out at commit, after the delete.
WITH resumed AS (
    DELETE FROM {table}_paused WHERE kind = $1
)
SELECT pg_notify($2, '')
