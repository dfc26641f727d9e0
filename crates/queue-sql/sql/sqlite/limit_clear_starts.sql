-- Forgets the recent starts of kind ?1, whose limit is gone.
DELETE FROM {table}_starts WHERE kind = ?1
