-- Saves ?2 as the last concurrency key served of limited kind ?1.
UPDATE {table}_limits SET cursor = ?2 WHERE kind = ?1
