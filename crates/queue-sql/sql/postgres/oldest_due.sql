-- The earliest scheduled_at among pending jobs due now, paused kinds included; NULL when
-- none is due.
--
-- The claim index orders by (rank, due time, id), rank being the negated priority, so
-- the earliest job of a priority is the first entry of its rank: a loose index scan walks
-- the ranks present (rank_between, migrate_3.sql: one probe each) and reads each rank's
-- first entry. A few index probes per priority in use, however many jobs wait.
WITH RECURSIVE ranks(r) AS (
    SELECT {table}_rank_between(-4294967296, 4294967296)
    UNION ALL
    SELECT {table}_rank_between(ranks.r, 4294967296)
    FROM ranks
    WHERE ranks.r IS NOT NULL
)
SELECT min(head.scheduled_at)
FROM ranks
CROSS JOIN LATERAL (
    SELECT p.scheduled_at
    FROM {table} AS p
    WHERE p.state = 'pending'
      AND -(p.priority::bigint) = ranks.r
    ORDER BY -(p.priority::bigint), p.scheduled_at, p.id
    LIMIT 1
) AS head
WHERE head.scheduled_at <= now()
