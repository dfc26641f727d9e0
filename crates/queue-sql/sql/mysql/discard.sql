-- Fails a claimed job now, whatever attempts remain; cancels it when a cancel was
-- requested. Values: the reason, the id, the claim token.
UPDATE `{table}`
SET finished_at      = UTC_TIMESTAMP(6),
    unique_lock      = IF(unique_until IS NULL, NULL, unique_lock),
    last_error       = ?,
    claim_token      = NULL,
    lease_expires_at = NULL,
    state            = IF(cancel_requested, 'cancelled', 'failed')
WHERE id = ?
  AND claim_token = ?
  AND state = 'running'
