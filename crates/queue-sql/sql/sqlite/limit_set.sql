-- Stores the limit of kind ?1, replacing its parts but keeping its key cursor. NULL parts
-- are not limited; ?5 and ?7 are periods in ms.
INSERT INTO {table}_limits (
    kind, concurrency, key_concurrency, rate_count, rate_ms, key_rate_count, key_rate_ms
)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
ON CONFLICT (kind) DO UPDATE
SET concurrency     = excluded.concurrency,
    key_concurrency = excluded.key_concurrency,
    rate_count      = excluded.rate_count,
    rate_ms         = excluded.rate_ms,
    key_rate_count  = excluded.key_rate_count,
    key_rate_ms     = excluded.key_rate_ms
