-- Deletes finished jobs past their retention ($1 completed/cancelled, $2 failed, in
-- seconds; NULL keeps failed jobs), at most $3 per run (the caller repeats it while it
-- comes back full), keeping held unique windows. The ids go through an array so the
-- delete finds them by primary key whatever the planner guesses.
--
-- FOR UPDATE makes the pick safe against a concurrent replay (or any other change): a
-- row changed since the statement's snapshot is checked again, as it is now, before it
-- is locked, so a job replayed meanwhile is pending and left alone; a row whose change
-- is still uncommitted is skipped. Without the lock the delete re-checks only the id.
DELETE FROM {table}
WHERE id = ANY (ARRAY(
    SELECT id
    FROM {table}
    WHERE finished_at IS NOT NULL
      AND (
           (state IN ('completed', 'cancelled') AND finished_at < now() - make_interval(secs => $1))
        OR (state = 'failed' AND $2::float8 IS NOT NULL
            AND finished_at < now() - make_interval(secs => $2::float8))
      )
      AND (unique_lock IS NULL OR unique_until <= now())
    LIMIT $3
    FOR UPDATE SKIP LOCKED
))
