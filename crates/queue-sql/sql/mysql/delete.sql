-- Deletes job ? when it is finished. The unique key it may still hold (a window that
-- outlived the job) goes with the row. Pending and running jobs match no row.
DELETE FROM `{table}`
WHERE id = ?
  AND state IN ('completed', 'failed', 'cancelled')
