-- Pauses kind ?1 at ?2 (µs); pausing a paused kind changes nothing.
INSERT INTO {table}_paused (kind, paused_at)
VALUES (?1, ?2)
ON CONFLICT (kind) DO NOTHING
