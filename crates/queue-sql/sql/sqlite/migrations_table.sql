-- Which schema versions of {table} are applied.
CREATE TABLE IF NOT EXISTS {table}_migrations (
    version    INTEGER PRIMARY KEY,
    applied_at INTEGER NOT NULL
)
