-- The paused kinds, in byte order (the column's collation is binary).
SELECT kind
FROM `{table}_paused`
ORDER BY kind
