-- Claims up to ?4 due jobs of priority ?5 and the kinds in ?3 (a JSON array; any kind when
-- '[]'), best first, in one statement: SQLite runs it under the single write lock, so
-- concurrent claimers never take the same row. ?1 now, ?2 the lease deadline (µs).
--
-- One priority at a time (the caller goes down them with next_priority.sql): with the
-- priority fixed, `scheduled_at <= now` bounds the index range, so the walk ends at the
-- first job not yet due instead of stepping over every job scheduled for later. Jobs of
-- paused kinds (migrate_3.sql) and of limited kinds (migrate_6.sql, claimed first by
-- limit_*.sql) are stepped over; both lists are read once per statement, as one, so each
-- job is looked up in one.
--
-- Each row gets its own token from random(): SQLite's PRNG is seeded from the OS and
-- evaluated per row, so two claims of one job get equal tokens with odds of 2^-64.
-- INDEXED BY keeps the walk on the partial index that matches the ORDER BY (see
-- migrate_1.sql). Rows are picked by rowid, which every index entry carries and which is
-- never NULL: a corrupt row with a NULL id is still claimed, and set aside, instead of
-- taking a claim slot forever. RETURNING has no defined order; the caller sorts.
UPDATE {table}
SET state            = 'running',
    attempts         = attempts + 1,
    claim_token      = random(),
    lease_expires_at = ?2
WHERE rowid IN (
    SELECT rowid
    FROM {table} INDEXED BY {table}_pending_idx
    WHERE state = 'pending'
      AND priority = ?5
      AND scheduled_at <= ?1
      AND (?3 = '[]' OR kind IN (SELECT value FROM json_each(?3)))
      AND kind NOT IN (SELECT p.kind FROM {table}_paused AS p
                       UNION ALL
                       SELECT l.kind FROM {table}_limits AS l)
    ORDER BY priority DESC, scheduled_at, id
    LIMIT ?4
)
RETURNING {claimed_columns}
