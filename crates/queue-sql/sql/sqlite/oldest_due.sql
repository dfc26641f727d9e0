-- The earliest scheduled_at (µs) among pending jobs due at ?1 (now, µs), paused kinds
-- included; NULL when none is due.
--
-- The pending index orders by (priority DESC, scheduled_at, id), so the earliest job of a
-- priority is that priority's first entry. `ranks` walks the priorities present, each
-- found from the one before like next_priority.sql, and each priority costs one more
-- probe: a handful of index reads however many jobs wait. `heads` is materialized so
-- that probe runs once, not again for the filter.
WITH RECURSIVE ranks(priority) AS (
    SELECT (
        SELECT p.priority
        FROM {table} AS p INDEXED BY {table}_pending_idx
        WHERE p.state = 'pending'
        ORDER BY p.priority DESC
        LIMIT 1
    )
    UNION ALL
    SELECT (
        SELECT p.priority
        FROM {table} AS p INDEXED BY {table}_pending_idx
        WHERE p.state = 'pending'
          AND p.priority < ranks.priority
        ORDER BY p.priority DESC
        LIMIT 1
    )
    FROM ranks
    WHERE ranks.priority IS NOT NULL
),
heads(scheduled_at) AS MATERIALIZED (
    SELECT (
        SELECT p.scheduled_at
        FROM {table} AS p INDEXED BY {table}_pending_idx
        WHERE p.state = 'pending'
          AND p.priority = ranks.priority
        ORDER BY p.priority DESC, p.scheduled_at
        LIMIT 1
    )
    FROM ranks
    WHERE ranks.priority IS NOT NULL
)
SELECT min(scheduled_at) FROM heads WHERE scheduled_at <= ?1
