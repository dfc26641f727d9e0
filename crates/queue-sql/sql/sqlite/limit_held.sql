-- How many of kind ?3's due jobs (scheduled at or before ?2, µs) at priority ?1 a window
-- of ?4 jobs holds, read as limit_take.sql reads its window: after a take that fell short
-- of its room, whether the window was full (keys at their limits crowd the head) or the
-- priority ran out of due jobs of the kind.
SELECT count(*)
FROM (
    SELECT 1
    FROM {table} INDEXED BY {table}_pending_idx
    WHERE state = 'pending'
      AND priority = ?1
      AND scheduled_at <= ?2
      AND kind = ?3
    ORDER BY priority DESC, scheduled_at, id
    LIMIT ?4
)
