-- The user the chaos workers log in as (config::MYSQL_WORKER_USER), so the KILL
-- CONNECTION fault can tell their connections from the harness's. Idempotent: run
-- before every MySQL scenario of the throw-away server.
CREATE USER IF NOT EXISTS 'chaos_worker'@'127.0.0.1';
GRANT ALL PRIVILEGES ON *.* TO 'chaos_worker'@'127.0.0.1'
