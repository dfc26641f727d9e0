-- One multi-row insert of a chunk given as an array of JSON texts, the shape the queue's
-- own bulk enqueue uses (`unnest` of parallel arrays).
INSERT INTO {table} (payload)
SELECT p::jsonb
FROM unnest($1::text[]) AS u(p)
