-- Releases unique keys whose window has passed, so a new job may take them.
UPDATE {table}
SET unique_lock = NULL
WHERE unique_lock = ANY($1::text[])
  AND unique_until <= now()
