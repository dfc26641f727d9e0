-- The raw baseline's table: the least a durable queue needs, an ordered key and a payload.
CREATE TABLE {table} (
    id INTEGER PRIMARY KEY,
    payload TEXT NOT NULL
)
