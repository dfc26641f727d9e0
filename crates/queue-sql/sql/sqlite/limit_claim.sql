-- Claims the pending rows whose rowids are in ?1 (a JSON array), picked by the limited
-- path in this same write transaction, with a lease until ?2 (µs); tokens as in
-- claim.sql.
UPDATE {table}
SET state            = 'running',
    attempts         = attempts + 1,
    claim_token      = random(),
    lease_expires_at = ?2
WHERE rowid IN (SELECT value FROM json_each(?1))
  AND state = 'pending'
RETURNING {claimed_columns}
