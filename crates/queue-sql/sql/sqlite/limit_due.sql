-- Due pending jobs (scheduled at or before ?2, µs) of kind ?1. Reads the whole table
-- (no index by kind); for stats only.
SELECT count(*) FROM {table} WHERE state = 'pending' AND kind = ?1 AND scheduled_at <= ?2
