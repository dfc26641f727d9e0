-- Removes the limit of kind ?1 (nothing when it has none).
DELETE FROM {table}_limits WHERE kind = ?1
