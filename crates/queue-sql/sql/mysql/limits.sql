-- Every stored limit, by kind in byte order.
SELECT kind, concurrency, key_concurrency, rate_count, rate_ms, key_rate_count, key_rate_ms
FROM `{table}_limits`
ORDER BY kind
