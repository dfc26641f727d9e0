-- Running jobs with an unexpired lease (deadline after ?1, µs) of each kind in ?2 (a JSON
-- array). Walks the running jobs by lease deadline: few, however many wait.
SELECT kind, count(*)
FROM {table} INDEXED BY {table}_lease_idx
WHERE state = 'running'
  AND lease_expires_at > ?1
  AND kind IN (SELECT value FROM json_each(?2))
GROUP BY kind
