-- Removes the queue's table (with its indexes), its paused kinds, its limits and their
-- starts, and its migration record.
DROP TABLE IF EXISTS {table};
DROP TABLE IF EXISTS {table}_paused;
DROP TABLE IF EXISTS {table}_limits;
DROP TABLE IF EXISTS {table}_starts;
DROP TABLE IF EXISTS {table}_migrations;
