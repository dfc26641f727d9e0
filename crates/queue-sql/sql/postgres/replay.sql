-- Failed jobs only: back to pending, attempts reset, due now. Anything else matches no row.
UPDATE {table}
SET state        = 'pending',
    attempts     = 0,
    scheduled_at = now(),
    finished_at  = NULL
WHERE id = $1
  AND state = 'failed'
