-- Removes the queue's table (with its indexes), its paused kinds and its migration record.
DROP TABLE IF EXISTS {table};
DROP TABLE IF EXISTS {table}_paused;
DROP TABLE IF EXISTS {table}_migrations;
