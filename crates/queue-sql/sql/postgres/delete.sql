-- Deletes job $1 when it is finished; the unique key it may still hold (a window that
-- outlived the job) goes with the row. Pending and running jobs match no row. A job
-- replayed by a transaction that commits first is checked again as it is then (pending)
-- and kept. The count trigger (migrate_5.sql) records the delete.
DELETE FROM {table}
WHERE id = $1
  AND state IN ('completed', 'failed', 'cancelled')
