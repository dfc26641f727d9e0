-- Who holds each of these unique keys (?1, a JSON array) now.
SELECT unique_lock, id FROM {table} WHERE unique_lock IN (SELECT value FROM json_each(?1))
