-- Locks failed job ? for its replay; returns its unique key when the key was held until
-- the job ended (no window): the replayed job takes it again if it is free. No row: the
-- job is unknown or not failed.
SELECT IF(unique_until IS NULL, unique_key, NULL)
FROM `{table}`
WHERE id = ?
  AND state = 'failed'
FOR UPDATE
