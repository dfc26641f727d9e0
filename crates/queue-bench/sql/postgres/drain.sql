-- Claims and deletes up to 100 of the oldest rows no other connection holds, in one
-- statement. The payload is read as text, as the queue's claim reads it.
DELETE FROM {table}
WHERE id = ANY(ARRAY(
    SELECT id FROM {table}
    ORDER BY id
    LIMIT 100
    FOR UPDATE SKIP LOCKED
))
RETURNING id, payload::text
