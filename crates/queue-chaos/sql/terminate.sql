-- Ends every connection of the chaos workers (their application name is bound as $1),
-- as an operator or a failover would; the harness's own connections are spared.
-- Returns how many were ended.
SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) AS ended
FROM pg_stat_activity
WHERE application_name = $1
  AND pid <> pg_backend_pid();
