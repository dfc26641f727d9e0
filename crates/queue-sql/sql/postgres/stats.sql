-- Counts per state, each from the partial index that holds that state.
SELECT 'pending', count(*) FROM {table} WHERE state = 'pending'
UNION ALL
SELECT 'running', count(*) FROM {table} WHERE state = 'running'
UNION ALL
SELECT state, count(*) FROM {table}
WHERE state IN ('completed', 'failed', 'cancelled')
GROUP BY state
