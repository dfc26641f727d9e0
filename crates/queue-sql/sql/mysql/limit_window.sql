-- A limited kind's window (window.rs) below its first priority (limit_window_first.sql):
-- the due pending jobs of priority ? and kind ?, at most ?, in claim order, keys first.
-- The claim index and range of claim.sql, keyed and unkeyed jobs alike; not a locking
-- read: the kind's limit row, locked by the claim, keeps other claims of the kind out,
-- and limit_take.sql locks the jobs chosen.
SELECT concurrency_key, id
FROM `{table}` FORCE INDEX (`{table}_pending_idx`)
WHERE state = 'pending'
  AND priority = ?
  AND scheduled_at <= UTC_TIMESTAMP(6)
  AND kind = ?
ORDER BY scheduled_at, id
LIMIT ?
