-- Makes pending job $1 due now (the database clock) when it is scheduled for later, and
-- wakes listeners on channel $2 at commit, as an insert does. A row comes back only when
-- the job moved; any other job (unknown, due already, running, finished) is left alone.
WITH moved AS (
    UPDATE {table}
    SET scheduled_at = now()
    WHERE id = $1
      AND state = 'pending'
      AND scheduled_at > now()
    RETURNING id
)
SELECT pg_notify($2, '') FROM moved
