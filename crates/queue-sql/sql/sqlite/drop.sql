DROP TABLE IF EXISTS {table};
DROP TABLE IF EXISTS {table}_migrations;
