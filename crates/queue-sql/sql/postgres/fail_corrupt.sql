-- Sets aside a claimed row that could not be decoded, with the reason, so it never blocks
-- the queue and stays visible to admins.
UPDATE {table}
SET state            = 'failed',
    finished_at      = now(),
    last_error       = $2,
    claim_token      = NULL,
    lease_expires_at = NULL
WHERE id = $1
