-- Kind ?'s due pending jobs per concurrency key (NULL: without one), for stats().
SELECT concurrency_key, COUNT(*)
FROM `{table}` FORCE INDEX (`{table}_pending_idx`)
WHERE state = 'pending'
  AND scheduled_at <= UTC_TIMESTAMP(6)
  AND kind = ?
GROUP BY concurrency_key
