-- Fails a claimed job now, whatever attempts remain; cancels it when a cancel was
-- requested. ?1 id, ?2 token, ?3 reason, ?4 now.
UPDATE {table}
SET state            = CASE WHEN cancel_requested THEN 'cancelled' ELSE 'failed' END,
    finished_at      = ?4,
    unique_lock      = CASE WHEN unique_until IS NULL THEN NULL ELSE unique_lock END,
    last_error       = ?3,
    claim_token      = NULL,
    lease_expires_at = NULL
WHERE id = ?1
  AND claim_token = ?2
  AND state = 'running'
