-- The job columns every read returns, in the order row.rs decodes them. A time past the
-- year 9999 reads as NULL: the driver panics on times the `time` crate cannot hold, and
-- older versions wrote such due times from an uncapped backoff. NULL makes the row one
-- that cannot be decoded, which is reported or set aside like any corrupt row.
id, kind, payload::text, priority, attempts, max_attempts, state,
CASE WHEN created_at < '10000-01-01 00:00:00+00' THEN created_at END AS created_at,
CASE WHEN scheduled_at < '10000-01-01 00:00:00+00' THEN scheduled_at END AS scheduled_at,
unique_key, last_error, claim_token,
CASE WHEN lease_expires_at < '10000-01-01 00:00:00+00' THEN lease_expires_at END AS lease_expires_at,
concurrency_key
