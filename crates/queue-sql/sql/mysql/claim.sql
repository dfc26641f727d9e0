-- Picks up to ? due jobs of priority ?, best first, and locks them for the claim's
-- transaction (claim.rs then marks them running by id). SKIP LOCKED passes over rows
-- another claim holds, so concurrent claimers never wait for each other nor take the
-- same job. {after} is empty, or `AND (scheduled_at > ? OR (scheduled_at = ? AND id > ?))`
-- to resume after the last job this process claimed (see resume.rs: an InnoDB claim
-- otherwise walks the entries that claimed jobs leave until purge removes them).
-- {kinds} is `AND kind IN (?, …)` for a worker with a list of kinds, else empty.
-- {limited} is, for the plain claim, `AND kind NOT IN (…{table}_limits)`: limited kinds
-- are taken by limited.rs instead; for a limited kind's own pick, empty. The last
-- column is the database's clock, which the lease deadline is set from.
--
-- One priority at a time (the caller goes down them with next_priority.sql): with the
-- state and priority fixed, `scheduled_at <= now` bounds the index range, so the walk
-- ends at the first job not yet due instead of stepping over every job scheduled for
-- later, and the ORDER BY is the index order (no sort). Jobs of paused kinds are
-- stepped over.
SELECT {columns}, UTC_TIMESTAMP(6)
FROM `{table}` FORCE INDEX (`{table}_pending_idx`)
WHERE state = 'pending'
  AND priority = ?
  AND scheduled_at <= UTC_TIMESTAMP(6)
  {after}
  {kinds}
  {limited}
  AND kind NOT IN (SELECT p.kind FROM `{table}_paused` AS p)
ORDER BY scheduled_at, id
LIMIT ?
FOR UPDATE SKIP LOCKED
