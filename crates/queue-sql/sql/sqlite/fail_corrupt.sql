-- Sets aside a claimed row that could not be decoded, with the reason, so it never
-- blocks the queue and stays visible to admins. ?1 raw id, ?2 reason, ?3 now.
UPDATE {table}
SET state            = 'failed',
    finished_at      = ?3,
    last_error       = ?2,
    claim_token      = NULL,
    lease_expires_at = NULL
WHERE id = ?1
