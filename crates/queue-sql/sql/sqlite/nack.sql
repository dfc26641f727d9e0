-- A failed attempt, in one guarded statement: back to pending after the policy's delay
-- for this attempt (?4: JSON array of delays in µs, indexed by attempts - 1, last entry
-- repeating) times the jitter factor ?5, or failed when attempts are used up.
-- ?1 id, ?2 token, ?3 error, ?6 now.
UPDATE {table}
SET state            = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'pending' END,
    scheduled_at     = CASE WHEN attempts >= max_attempts THEN scheduled_at
                            ELSE ?6 + CAST((?4 ->> ('$[' || min(max(attempts - 1, 0),
                                 json_array_length(?4) - 1) || ']')) * ?5 AS INTEGER)
                       END,
    finished_at      = CASE WHEN attempts >= max_attempts THEN ?6 END,
    unique_lock      = CASE WHEN attempts >= max_attempts AND unique_until IS NULL
                            THEN NULL ELSE unique_lock END,
    last_error       = ?3,
    claim_token      = NULL,
    lease_expires_at = NULL
WHERE id = ?1
  AND claim_token = ?2
  AND state = 'running'
