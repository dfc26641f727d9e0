-- Appended to enqueue.sql for the rows with unique keys: a row whose key is held is left
-- out instead of failing the chunk (the caller has checked that no id is taken).
ON DUPLICATE KEY UPDATE id = `{table}`.id
