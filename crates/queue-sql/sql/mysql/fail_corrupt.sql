-- Sets aside a claimed row that could not be decoded (reason ?, id ? as stored), so it
-- never blocks the queue and stays visible to admins. Runs in the claim's transaction,
-- which holds the row's lock, instead of marking it running.
UPDATE `{table}`
SET finished_at      = UTC_TIMESTAMP(6),
    last_error       = ?,
    unique_lock      = IF(unique_until IS NULL, NULL, unique_lock),
    claim_token      = NULL,
    lease_expires_at = NULL,
    state            = 'failed'
WHERE id = ?
