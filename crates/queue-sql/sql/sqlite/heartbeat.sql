-- Moves the deadline of the leases still held ([id, token] pairs in ?2) to ?1.
UPDATE {table}
SET lease_expires_at = ?1
WHERE state = 'running'
  AND (id, claim_token) IN (SELECT value ->> '$[0]', value ->> '$[1]' FROM json_each(?2))
RETURNING id, claim_token
