-- Pauses kind $1 (see migrate_4.sql); pausing a paused kind changes nothing.
INSERT INTO {table}_paused (kind)
VALUES ($1)
ON CONFLICT (kind) DO NOTHING
