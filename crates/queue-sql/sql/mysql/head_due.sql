-- The earliest due scheduled_at among pending jobs of priority ?, paused kinds included:
-- the first entry of that priority's range of the pending index, when it is due.
SELECT scheduled_at
FROM `{table}` FORCE INDEX (`{table}_pending_idx`)
WHERE state = 'pending'
  AND priority = ?
  AND scheduled_at <= UTC_TIMESTAMP(6)
ORDER BY state, priority, scheduled_at
LIMIT 1
