-- Locks up to 100 of the oldest rows no other connection holds, inside the drain's
-- transaction. The payload is read, as the queue's claim reads it.
SELECT id, payload FROM {table}
ORDER BY id
LIMIT 100
FOR UPDATE SKIP LOCKED
