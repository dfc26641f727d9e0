-- Claims up to ?4 due jobs of the kinds in ?3 (a JSON array; any kind when empty), best
-- first, in one statement: SQLite runs it under the write lock, so claimers never collide.
-- Each row gets its own random token; ?1 now, ?2 lease deadline (µs).
UPDATE {table}
SET state            = 'running',
    attempts         = attempts + 1,
    claim_token      = random(),
    lease_expires_at = ?2
WHERE id IN (
    SELECT id
    FROM {table}
    WHERE state = 'pending'
      AND scheduled_at <= ?1
      AND (?3 = '[]' OR kind IN (SELECT value FROM json_each(?3)))
    ORDER BY priority DESC, scheduled_at, id
    LIMIT ?4
)
RETURNING {columns}
