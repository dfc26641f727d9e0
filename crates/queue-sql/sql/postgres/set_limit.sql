-- Stores the limit of kind $1, replacing any it had ($2..$7: concurrency, key concurrency,
-- rate count and period in ms, key rate count and period; NULL for a part not set), and
-- wakes listeners on channel $8 (the table's): a raised limit makes jobs claimable. The
-- rotation cursor and the recorded starts stay: a rate keeps counting across a change.
-- The next walk for the kind's jobs starts from the head (see pick_kind in migrate_8.sql).
WITH stored AS (
    INSERT INTO {table}_limits (
        kind, concurrency, key_concurrency, rate_count, rate_ms, key_rate_count, key_rate_ms
    )
    VALUES ($1, $2, $3, $4, $5, $6, $7)
    ON CONFLICT (kind) DO UPDATE
    SET concurrency     = EXCLUDED.concurrency,
        key_concurrency = EXCLUDED.key_concurrency,
        rate_count      = EXCLUDED.rate_count,
        rate_ms         = EXCLUDED.rate_ms,
        key_rate_count  = EXCLUDED.key_rate_count,
        key_rate_ms     = EXCLUDED.key_rate_ms,
        scan_since      = NULL
)
SELECT pg_notify($8, '')
