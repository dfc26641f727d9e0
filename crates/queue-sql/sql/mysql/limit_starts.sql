-- Starts of kind ? within the last ? microseconds, all keys together.
SELECT COUNT(*)
FROM `{table}_starts`
WHERE kind = ?
  AND at > UTC_TIMESTAMP(6) - INTERVAL ? MICROSECOND
