-- The paused kinds, in byte order (TEXT compares with BINARY by default).
SELECT kind FROM {table}_paused ORDER BY kind
