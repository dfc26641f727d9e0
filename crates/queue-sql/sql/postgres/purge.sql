-- Deletes up to $3 jobs in final state $1 that finished at least $2 seconds ago (the
-- database clock), the first to finish first; unique keys they still hold go with the
-- rows. Returns nothing; the caller counts the rows.
--
-- Walks the finished_at index from its oldest entry, stepping over jobs of other states.
-- FOR UPDATE SKIP LOCKED makes the pick safe against a concurrent replay, as in
-- prune.sql: a row changed since the snapshot is checked again as it is now (a replayed
-- job is pending, and left alone), a row with an uncommitted change is skipped. The ids
-- go through an array so the delete finds them by primary key.
DELETE FROM {table}
WHERE id = ANY (ARRAY(
    SELECT id
    FROM {table}
    WHERE finished_at IS NOT NULL
      AND finished_at <= now() - make_interval(secs => $2::float8)
      AND state = $1::text
    ORDER BY finished_at
    LIMIT $3
    FOR UPDATE SKIP LOCKED
))
