id, kind, payload, priority, attempts, max_attempts, state, created_at, scheduled_at, unique_key, last_error, claim_token, lease_expires_at, concurrency_key
