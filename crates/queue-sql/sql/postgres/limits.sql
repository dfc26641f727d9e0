-- The stored limits: kind, concurrency, key concurrency, rate count and period (ms), key
-- rate count and period.
SELECT kind, concurrency, key_concurrency, rate_count, rate_ms, key_rate_count, key_rate_ms
FROM {table}_limits
