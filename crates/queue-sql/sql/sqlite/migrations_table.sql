-- Which schema versions of {table} are applied; `applied_at` in µs since the Unix epoch.
CREATE TABLE IF NOT EXISTS {table}_migrations (
    version    INTEGER PRIMARY KEY,
    applied_at INTEGER NOT NULL
)
