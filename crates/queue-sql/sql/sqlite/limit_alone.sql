-- Whether a claim of the kinds in ?1 (a JSON array; any kind when '[]') may still take
-- kind ?2 by limit_take.sql alone, outside a transaction (see src/sqlite/claim.rs), and
-- leave the rest to the plain claim: ?2 is the only limited kind asked for that is not
-- paused, and its stored limit is a per-key concurrency of ?3 and nothing else. Read when
-- a take came back short, so that a limit stored or changed since the last full claim
-- sends the next one back to it.
SELECT NOT EXISTS (
           SELECT 1
           FROM {table}_limits AS l
           WHERE (?1 = '[]' OR l.kind IN (SELECT value FROM json_each(?1)))
             AND l.kind <> ?2
             AND l.kind NOT IN (SELECT p.kind FROM {table}_paused AS p)
       )
   AND EXISTS (
           SELECT 1
           FROM {table}_limits AS l
           WHERE l.kind = ?2
             AND l.key_concurrency = ?3
             AND l.concurrency IS NULL
             AND l.rate_count IS NULL
             AND l.key_rate_count IS NULL
             AND l.kind NOT IN (SELECT p.kind FROM {table}_paused AS p)
       )
