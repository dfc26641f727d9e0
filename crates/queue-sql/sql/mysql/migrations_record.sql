-- Records schema version ? of {table} as applied.
INSERT INTO `{table}_migrations` (version) VALUES (?)
