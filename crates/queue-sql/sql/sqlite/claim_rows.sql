-- Claims the rows whose rowids are in ?3 (a JSON array) if they are still pending and
-- due at ?1, leased until ?2 (µs); another process may have taken some meanwhile. Used
-- while a pause concerns the claim (see migrate_3.sql); tokens as in claim.sql.
UPDATE {table}
SET state            = 'running',
    attempts         = attempts + 1,
    claim_token      = random(),
    lease_expires_at = ?2
WHERE rowid IN (SELECT value FROM json_each(?3))
  AND state = 'pending'
  AND scheduled_at <= ?1
RETURNING {columns}
