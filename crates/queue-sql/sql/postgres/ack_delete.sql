-- The ack of a queue that keeps no completed jobs (`keep_completed_for` of zero): completes
-- the jobs whose (id, token) pairs still hold their claim by deleting them, which writes
-- no new row version and no index entries. A job whose unique key is held for a window
-- past its end stays, completed, until the window lapses and pruning removes it.
-- Returns the pairs that held.
WITH gone AS (
    DELETE FROM {table} AS j
    USING unnest($1::text[], $2::bigint[]) AS l(id, token)
    WHERE j.id = ANY ($1::text[])
      AND j.id = l.id
      AND j.claim_token = l.token
      AND (j.unique_until IS NULL OR j.unique_until <= now())
    RETURNING j.id, l.token
),
kept AS (
    UPDATE {table} AS j
    SET state            = 'completed',
        finished_at      = now(),
        claim_token      = NULL,
        lease_expires_at = NULL
    FROM unnest($1::text[], $2::bigint[]) AS l(id, token)
    WHERE j.id = ANY ($1::text[])
      AND j.id = l.id
      AND j.claim_token = l.token
      AND j.unique_until > now()
    RETURNING j.id, l.token
)
SELECT id, token FROM gone
UNION ALL
SELECT id, token FROM kept
