-- Starts of kind ?1 (any key) after ?2 (µs): those inside its rate's window.
SELECT count(*) FROM {table}_starts INDEXED BY {table}_starts_at_idx WHERE kind = ?1 AND at > ?2
