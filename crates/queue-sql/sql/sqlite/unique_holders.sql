-- Who holds each of the unique keys in ?1 (a JSON array of keys) now.
SELECT unique_lock, id
FROM {table}
WHERE unique_lock IN (SELECT value FROM json_each(?1))
