-- Moves the lease deadline of the claims still held ([id, token] pairs in ?2, a JSON
-- array, each id at most once) to ?1 (µs); returns their ids, and whether each job has a
-- cancel request.
UPDATE {table}
SET lease_expires_at = ?1
WHERE state = 'running'
  AND (id, claim_token) IN (SELECT value ->> '$[0]', value ->> '$[1]' FROM json_each(?2))
RETURNING id, cancel_requested
