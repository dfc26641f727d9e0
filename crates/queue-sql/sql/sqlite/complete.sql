-- ack.sql that also stores each job's output. ?2 is a JSON array of [id, token] and
-- [id, token, output] entries, each id at most once; the output, any JSON value, is
-- kept as its JSON text (`->`), an entry without one stores NULL. Used only for a batch
-- with at least one output; the rest go through ack.sql. ?1 now (µs). Returns the ids
-- whose claim held.
--
-- The `+` keeps the state test off every index, so the plan walks the batch and probes
-- the primary key per entry instead of walking the running jobs.
UPDATE {table}
SET state            = 'completed',
    finished_at      = ?1,
    claim_token      = NULL,
    lease_expires_at = NULL,
    unique_lock      = CASE WHEN unique_until IS NULL THEN NULL ELSE unique_lock END,
    output           = l.result
FROM (
    SELECT value ->> '$[0]' AS job_id,
           value ->> '$[1]' AS token,
           value -> '$[2]'  AS result
    FROM json_each(?2)
) AS l
WHERE {table}.id = l.job_id
  AND {table}.claim_token = l.token
  AND +{table}.state = 'running'
RETURNING id
