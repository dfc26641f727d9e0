-- Postgres's default isolation: a locking read takes no gap locks here, so connections
-- claiming neighbouring rows do not deadlock (as they do under REPEATABLE READ).
SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED
