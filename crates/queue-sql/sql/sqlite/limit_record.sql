-- Records starts at ?2 (µs): ?1 is a JSON array of [kind, key] pairs, the key null for a
-- job without one.
INSERT INTO {table}_starts (kind, key, at)
SELECT value ->> '$[0]', coalesce(value ->> '$[1]', ''), ?2
FROM json_each(?1)
