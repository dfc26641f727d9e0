-- Starts of kind ? within the last ? microseconds, per concurrency key.
SELECT ckey, COUNT(*)
FROM `{table}_starts`
WHERE kind = ?
  AND at > UTC_TIMESTAMP(6) - INTERVAL ? MICROSECOND
  AND ckey <> ''
GROUP BY ckey
