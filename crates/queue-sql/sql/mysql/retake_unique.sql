-- Gives the replayed job ? its unique key again. When another job holds the key the
-- unique index refuses the change (duplicate key), and the job stays without it, as
-- before its failure. Lapsed windows are freed just before, by free_unique.sql.
UPDATE `{table}`
SET unique_lock = unique_key
WHERE id = ?
  AND unique_lock IS NULL
