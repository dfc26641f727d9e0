-- The limits a claim of the kinds in ?1 (a JSON array; any kind when '[]') honours: each
-- limited kind asked for and not paused, with its key cursor and its running jobs with a
-- lease unexpired at ?2 (µs). One statement for what the claim would otherwise read in
-- three; the running jobs are counted (a walk of the running ones by lease deadline, as
-- limit_running.sql does) only for a kind-wide concurrency limit, the one part using them.
SELECT l.kind, l.concurrency, l.key_concurrency, l.rate_count, l.rate_ms, l.key_rate_count,
       l.key_rate_ms, l.cursor,
       CASE
           WHEN l.concurrency IS NULL THEN 0
           ELSE (
               SELECT count(*)
               FROM {table} INDEXED BY {table}_lease_idx
               WHERE state = 'running'
                 AND lease_expires_at > ?2
                 AND kind = l.kind
           )
       END
FROM {table}_limits AS l
WHERE (?1 = '[]' OR l.kind IN (SELECT value FROM json_each(?1)))
  AND l.kind NOT IN (SELECT p.kind FROM {table}_paused AS p)
ORDER BY l.kind
