-- Counts per state: the sum of the changes the count triggers appended (migration 5).
SELECT state, sum(n)::bigint FROM {table}_counts GROUP BY state
