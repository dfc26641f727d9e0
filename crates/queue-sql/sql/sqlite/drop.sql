-- Removes the queue's table (with its indexes) and its migration record.
DROP TABLE IF EXISTS {table};
DROP TABLE IF EXISTS {table}_migrations;
