-- Gives the replayed job ?1 its unique key ?2 again, unless another job holds it (lapsed
-- windows are freed just before, by free_unique.sql). Runs in the replay's write
-- transaction, so no enqueue can take the key in between.
UPDATE {table}
SET unique_lock = unique_key
WHERE id = ?1
  AND unique_key = ?2
  AND unique_lock IS NULL
  AND NOT EXISTS (SELECT 1 FROM {table} AS o WHERE o.unique_lock = ?2)
