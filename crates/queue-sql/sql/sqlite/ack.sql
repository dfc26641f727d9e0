-- Completes the jobs whose [id, token] pairs (?2, a JSON array) still hold their claim;
-- returns their ids. The caller sends each id at most once per statement, so the id
-- alone tells which pair matched. A unique key without a window is released with the
-- job. ?1 now (µs).
UPDATE {table}
SET state            = 'completed',
    finished_at      = ?1,
    claim_token      = NULL,
    lease_expires_at = NULL,
    unique_lock      = CASE WHEN unique_until IS NULL THEN NULL ELSE unique_lock END
WHERE state = 'running'
  AND (id, claim_token) IN (SELECT value ->> '$[0]', value ->> '$[1]' FROM json_each(?2))
RETURNING id
