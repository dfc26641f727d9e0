-- The paused kinds, in byte order.
SELECT kind
FROM {table}_paused
ORDER BY kind COLLATE "C"
