-- Sets aside a claimed row that could not be decoded, with the reason, so it never blocks
-- the queue and stays visible to admins. A unique key without a window is released, as
-- for any job that fails. $1 id, $2 the claim's token, $3 reason.
-- The token makes it act only on the claim that met the row: if that lease ran out and
-- the row was claimed again (or repaired and replayed) meanwhile, it is left alone.
UPDATE {table}
SET state            = 'failed',
    finished_at      = now(),
    last_error       = $3,
    unique_lock      = CASE WHEN unique_until IS NULL THEN NULL ELSE unique_lock END,
    claim_token      = NULL,
    lease_expires_at = NULL
WHERE id = $1
  AND claim_token = $2
  AND state = 'running'
