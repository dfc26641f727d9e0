-- Up to ? concurrency keys of kind ? in byte order, after ? and up to ?, that have a due
-- pending job: the claim's rotation over keys. Reads the keyed index once per key (the
-- first pending entry of each key is its earliest due time), not once per job.
SELECT concurrency_key
FROM `{table}` FORCE INDEX (`{table}_keyed_idx`)
WHERE kind = ?
  AND concurrency_key > ?
  AND concurrency_key <= ?
  AND keyed_state = 'pending'
GROUP BY kind, concurrency_key
HAVING MIN(keyed_due) <= UTC_TIMESTAMP(6)
ORDER BY concurrency_key
LIMIT ?
