-- Which schema versions of {table} are applied.
CREATE TABLE IF NOT EXISTS {table}_migrations (
    version    integer     PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
)
