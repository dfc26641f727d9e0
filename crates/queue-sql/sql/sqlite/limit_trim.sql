-- Forgets the starts of kind ?1 at or before ?2 (µs), whose windows are over.
DELETE FROM {table}_starts WHERE kind = ?1 AND at <= ?2
