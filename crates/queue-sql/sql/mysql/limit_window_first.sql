-- The first read of a limited kind's window pick (window.rs), in one round trip: kind
-- ?'s running jobs per concurrency key as limit_running.sql counts them (no id), then its
-- window at priority ? as limit_window.sql reads it (kind ?, at most ?; no count).
SELECT concurrency_key, COUNT(*), NULL, NULL
FROM `{table}` FORCE INDEX (`{table}_pending_idx`)
WHERE state = 'running'
  AND kind = ?
  AND lease_expires_at > UTC_TIMESTAMP(6)
GROUP BY concurrency_key
UNION ALL
(SELECT concurrency_key, NULL, id, scheduled_at
 FROM `{table}` FORCE INDEX (`{table}_pending_idx`)
 WHERE state = 'pending'
   AND priority = ?
   AND scheduled_at <= UTC_TIMESTAMP(6)
   AND kind = ?
 ORDER BY scheduled_at, id
 LIMIT ?)
