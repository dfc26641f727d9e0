-- The highest priority below ?1 that has pending jobs, due or not (no row when none): the
-- first entry of that range of the pending index, whose first column is the priority.
-- Also whether any of the kinds in ?2 (a JSON array; any kind when '[]') is limited
-- (migrate_6.sql), so a claim learns whether it needs the limited path from a statement
-- it runs anyway.
SELECT priority,
       EXISTS (
           SELECT 1
           FROM {table}_limits AS l
           WHERE ?2 = '[]' OR l.kind IN (SELECT value FROM json_each(?2))
       ) AS limited
FROM {table} INDEXED BY {table}_pending_idx
WHERE state = 'pending'
  AND priority < ?1
ORDER BY priority DESC
LIMIT 1
