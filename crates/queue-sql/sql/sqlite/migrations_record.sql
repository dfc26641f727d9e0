-- Records that version ?1 was applied at ?2 (µs).
INSERT INTO {table}_migrations (version, applied_at) VALUES (?1, ?2)
