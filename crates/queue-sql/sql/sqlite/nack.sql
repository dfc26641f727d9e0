-- A failed attempt, in one guarded statement. With attempts left the job goes back to
-- pending after min(base << (attempts - 1), cap) * jitter; otherwise it is failed (or
-- cancelled, when a cancel was requested) and a unique key without a window is released.
-- ?1 id, ?2 token, ?3 error, ?4 now, ?5 base (µs; 0 retries at once), ?6 cap (µs; 0 is
-- uncapped), ?7 jitter factor in (0, 1], ?8 longest delay (µs).
-- The shift stops at 40; an integer product that overflows becomes REAL in SQLite, and
-- ?8 bounds the result, so the stored time always stays a valid integer.
UPDATE {table}
SET state            = CASE WHEN cancel_requested THEN 'cancelled'
                            WHEN attempts >= max_attempts THEN 'failed'
                            ELSE 'pending' END,
    scheduled_at     = CASE
                           WHEN cancel_requested OR attempts >= max_attempts THEN scheduled_at
                           ELSE ?4 + CAST(min(
                                    CASE
                                        WHEN ?6 > 0
                                        THEN min(?5 * (1 << min(max(attempts - 1, 0), 40)), ?6)
                                        ELSE ?5 * (1 << min(max(attempts - 1, 0), 40))
                                    END * ?7,
                                    ?8
                                ) AS INTEGER)
                       END,
    finished_at      = CASE WHEN cancel_requested OR attempts >= max_attempts THEN ?4 END,
    unique_lock      = CASE WHEN (cancel_requested OR attempts >= max_attempts)
                                 AND unique_until IS NULL
                            THEN NULL ELSE unique_lock END,
    last_error       = ?3,
    claim_token      = NULL,
    lease_expires_at = NULL
WHERE id = ?1
  AND claim_token = ?2
  AND state = 'running'
