-- Removes the queue's table (with its indexes and triggers), its paused kinds, its counts
-- and its migration record.
DROP TABLE IF EXISTS {table};
DROP TABLE IF EXISTS {table}_paused;
DROP TABLE IF EXISTS {table}_counts;
DROP TABLE IF EXISTS {table}_migrations;
