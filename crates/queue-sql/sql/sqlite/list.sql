-- Up to ?4 jobs, newest first, with the tail of get.sql. Each filter is skipped when NULL:
-- ?1 state, ?2 kind; ?3 is the cursor, an id the listed ones are below ('~' when there is
-- none: it sorts after every ULID character).
--
-- Walks the primary key down from the cursor and stops at the limit: there is no index
-- by state (migration 2) or kind (every enqueue would write it), so a state or kind that
-- is rare among many retained jobs makes it read far.
SELECT {columns}, output, cancel_requested, finished_at
FROM {table}
WHERE id < ?3
  AND (?1 IS NULL OR state = ?1)
  AND (?2 IS NULL OR kind = ?2)
ORDER BY id DESC
LIMIT ?4
