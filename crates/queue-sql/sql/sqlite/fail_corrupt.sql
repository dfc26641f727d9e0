-- Sets aside a claimed row that could not be decoded, so it never blocks the queue and
-- stays visible to admins. By rowid, which works even when the id itself is unreadable.
-- ?1 rowid, ?2 reason, ?3 now (µs), ?4 the claim's token: if that lease ran out and the
-- row was claimed again (or repaired and replayed) meanwhile, it is left alone.
UPDATE {table}
SET state            = 'failed',
    finished_at      = ?3,
    last_error       = ?2,
    unique_lock      = CASE WHEN unique_until IS NULL THEN NULL ELSE unique_lock END,
    claim_token      = NULL,
    lease_expires_at = NULL
WHERE rowid = ?1
  AND claim_token = ?4
  AND state = 'running'
