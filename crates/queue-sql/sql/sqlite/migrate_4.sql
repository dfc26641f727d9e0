-- Version 4: the output a handler returned, JSON text stored with its completed job by
-- `complete_batch` (complete.sql). NULL for every other job; pruning removes it with
-- the row.
ALTER TABLE {table} ADD COLUMN output TEXT;
