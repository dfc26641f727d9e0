-- Failed jobs only: back to pending, attempts reset, due at ?2 (now, µs). Anything else
-- matches no row. ?1 id. Returns the job's unique key when it is held until the job ends
-- (no window): the replayed job takes it again if it is free (retake_unique.sql).
UPDATE {table}
SET state        = 'pending',
    attempts     = 0,
    scheduled_at = ?2,
    finished_at  = NULL
WHERE id = ?1
  AND state = 'failed'
RETURNING CASE WHEN unique_until IS NULL THEN unique_key END
