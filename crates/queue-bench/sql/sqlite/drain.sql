-- Deletes the 100 oldest rows and returns them: a claim and an ack in one statement,
-- from the only writer.
DELETE FROM {table}
WHERE id IN (
    SELECT id FROM {table}
    ORDER BY id
    LIMIT 100
)
RETURNING id, payload
