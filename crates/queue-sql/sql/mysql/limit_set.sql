-- Stores the limit of kind ?, replacing the one it had.
INSERT INTO `{table}_limits`
    (kind, concurrency, key_concurrency, rate_count, rate_ms, key_rate_count, key_rate_ms)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON DUPLICATE KEY UPDATE
    concurrency     = VALUES(concurrency),
    key_concurrency = VALUES(key_concurrency),
    rate_count      = VALUES(rate_count),
    rate_ms         = VALUES(rate_ms),
    key_rate_count  = VALUES(key_rate_count),
    key_rate_ms     = VALUES(key_rate_ms)
