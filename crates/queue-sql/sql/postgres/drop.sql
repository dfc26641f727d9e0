DROP TABLE IF EXISTS {table};
DROP TABLE IF EXISTS {table}_migrations;
DROP TABLE IF EXISTS {table}_paused;
DROP FUNCTION IF EXISTS {table}_claim(text[], bigint, float8);
DROP FUNCTION IF EXISTS {table}_claim(text[], bigint, float8, bigint, timestamptz, text);
DROP FUNCTION IF EXISTS {table}_next_due(text[]);
DROP FUNCTION IF EXISTS {table}_rank_between(bigint, bigint);
DROP FUNCTION IF EXISTS {table}_claim_kind(text, bigint);
DROP FUNCTION IF EXISTS {table}_pending_kinds();
