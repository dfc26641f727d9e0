-- The schema versions applied to {table}, as queue-sql records them (MySQL casts to
-- SIGNED, not BIGINT).
SELECT CAST(version AS SIGNED)
FROM `{table}_migrations`
ORDER BY version
