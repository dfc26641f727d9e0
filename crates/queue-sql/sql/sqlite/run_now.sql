-- Makes pending job ?1 due at ?2 (now, µs) when it is scheduled for later. Any other job
-- (unknown, due already, running, finished) matches no row.
UPDATE {table}
SET scheduled_at = ?2
WHERE id = ?1
  AND state = 'pending'
  AND scheduled_at > ?2
