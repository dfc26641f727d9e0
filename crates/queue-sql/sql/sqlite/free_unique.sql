-- Releases the unique keys in ?1 (a JSON array of keys) whose window ended at or before
-- ?2 (now, µs), so a new job may take them. Keys without a window (unique_until NULL)
-- are released by the statement that finishes their job instead.
UPDATE {table}
SET unique_lock = NULL
WHERE unique_lock IN (SELECT value FROM json_each(?1))
  AND unique_until <= ?2
