-- Each distinct concurrency key in ?2 (a JSON array) of kind ?1, with its running jobs
-- whose lease has not expired at ?3 (µs) when ?4, and its starts after ?5 (µs) when ?5 is
-- not NULL: one statement for a claim's whole window of keys, one probe of the keyed
-- running index (and of the starts index) per key. CASE runs a probe only when asked.
SELECT k.value,
       CASE
           WHEN ?4 THEN (
               SELECT count(*)
               FROM {table} INDEXED BY {table}_keyed_running_idx
               WHERE state = 'running'
                 AND concurrency_key IS NOT NULL
                 AND kind = ?1
                 AND concurrency_key = k.value
                 AND lease_expires_at > ?3
           )
           ELSE 0
       END,
       CASE
           WHEN ?5 IS NOT NULL THEN (
               SELECT count(*)
               FROM {table}_starts INDEXED BY {table}_starts_key_idx
               WHERE kind = ?1
                 AND key = k.value
                 AND at > ?5
           )
           ELSE 0
       END
FROM json_each(?2) AS k
