-- Up to $3 jobs of any state below the cursor $1 (NULL: from the newest), of kind $2 when
-- it is not NULL; newest first, with the tail of get.sql.
--
-- Reads the primary key backwards from the cursor. COALESCE keeps the bound a plain
-- value, usable by the index in a generic plan too ('~' sorts after every ULID character
-- in the "C" collation of ids); `$1 IS NULL OR id < $1` would not be. There is no index
-- by kind (every enqueue would write it), so a rare kind makes the walk long.
SELECT {columns}, output::text AS output, cancel_requested, finished_at
FROM {table}
WHERE id < COALESCE($1::text, '~')
  AND ($2::text IS NULL OR kind = $2::text)
ORDER BY id DESC
LIMIT $3
