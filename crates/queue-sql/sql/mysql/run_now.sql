-- Makes pending job ? due now when it is scheduled for later. Any other job (unknown,
-- due already, running, finished) matches no row.
UPDATE `{table}`
SET scheduled_at = UTC_TIMESTAMP(6)
WHERE id = ?
  AND state = 'pending'
  AND scheduled_at > UTC_TIMESTAMP(6)
