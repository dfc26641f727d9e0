-- Claims up to $2 due jobs of the kinds in $1 (any kind when $1 is empty), best first.
-- SKIP LOCKED lets concurrent claimers take different rows without waiting on each other;
-- each claim gets a fresh random token and a lease measured on the database clock.
WITH picked AS (
    SELECT id
    FROM {table}
    WHERE state = 'pending'
      AND scheduled_at <= now()
      AND (cardinality($1::text[]) = 0 OR kind = ANY($1::text[]))
    ORDER BY priority DESC, scheduled_at, id
    LIMIT $2
    FOR UPDATE SKIP LOCKED
)
UPDATE {table} AS j
SET state            = 'running',
    attempts         = j.attempts + 1,
    claim_token      = (random() * 9.0e18)::bigint,
    lease_expires_at = now() + make_interval(secs => $3)
FROM picked
WHERE j.id = picked.id
RETURNING j.id, j.kind, j.payload::text, j.priority, j.attempts, j.max_attempts, j.state,
          j.created_at, j.scheduled_at, j.unique_key, j.last_error, j.claim_token,
          j.lease_expires_at
