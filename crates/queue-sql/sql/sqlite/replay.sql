-- Failed jobs only: back to pending, attempts reset, due at ?2 (now, µs). Anything else
-- matches no row. ?1 id.
UPDATE {table}
SET state        = 'pending',
    attempts     = 0,
    scheduled_at = ?2,
    finished_at  = NULL
WHERE id = ?1
  AND state = 'failed'
