-- A limited kind's due jobs (window.rs) past the first priority of its window
-- (limit_window_first.sql), or past a window crowded by keys at their limit: the due
-- pending jobs of priority ? and kind ?, at most ?, in claim order, keys first, due
-- times and ids last. {after} is empty, or `AND (scheduled_at > ? OR (scheduled_at = ?
-- AND id > ?))` to go on after the last job read, as claim.sql resumes.
-- The claim index and range of claim.sql, keyed and unkeyed jobs alike; not a locking
-- read: the kind's limit row, locked by the claim, keeps other claims of the kind out,
-- and limit_take.sql locks the jobs chosen.
SELECT concurrency_key, id, scheduled_at
FROM `{table}` FORCE INDEX (`{table}_pending_idx`)
WHERE state = 'pending'
  AND priority = ?
  AND scheduled_at <= UTC_TIMESTAMP(6)
  {after}
  AND kind = ?
ORDER BY scheduled_at, id
LIMIT ?
