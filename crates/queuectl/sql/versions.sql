-- The schema versions applied to {table}, as queue-sql records them (Postgres and SQLite).
SELECT CAST(version AS BIGINT)
FROM {table}_migrations
ORDER BY version
