-- Releases unique keys (?1, a JSON array) whose window ended before ?2.
UPDATE {table}
SET unique_lock = NULL
WHERE unique_lock IN (SELECT value FROM json_each(?1))
  AND unique_until <= ?2
