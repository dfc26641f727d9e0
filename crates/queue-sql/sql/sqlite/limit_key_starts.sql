-- Starts of kind ?1 and concurrency key ?2 after ?3 (µs): those inside its key rate's
-- window.
SELECT count(*)
FROM {table}_starts INDEXED BY {table}_starts_key_idx
WHERE kind = ?1
  AND key = ?2
  AND at > ?3
