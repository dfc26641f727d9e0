-- Jobs newest first, with the tail of get.sql. Values: the cursor, an id the listed ones
-- are below ('~' when there is none: it sorts after every ULID character); the state
-- twice and the kind twice (each filter is skipped when NULL); the limit.
--
-- Walks the primary key down from the cursor and stops at the limit: there is no index
-- by kind (every enqueue would write it), so a kind that is rare among many retained
-- jobs makes it read far.
SELECT {columns}, output, cancel_requested, finished_at
FROM `{table}`
WHERE id < ?
  AND (? IS NULL OR state = ?)
  AND (? IS NULL OR kind = ?)
ORDER BY id DESC
LIMIT ?
