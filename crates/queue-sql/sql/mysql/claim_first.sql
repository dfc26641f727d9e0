-- What a claim reads first, in one round trip: the highest priority with pending jobs
-- (as next_priority.sql; NULL when none) and the limited kinds that are not paused, as a
-- JSON array (NULL when none). An unlimited queue pays only the lookup of an empty
-- table.
SELECT (SELECT priority
        FROM `{table}` FORCE INDEX (`{table}_pending_idx`)
        WHERE state = 'pending'
        ORDER BY state DESC, priority DESC
        LIMIT 1),
       (SELECT JSON_ARRAYAGG(l.kind)
        FROM `{table}_limits` AS l
        WHERE l.kind NOT IN (SELECT p.kind FROM `{table}_paused` AS p))
