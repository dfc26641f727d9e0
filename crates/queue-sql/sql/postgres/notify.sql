-- Wakes listeners after a change that makes jobs due without an insert (replay).
SELECT pg_notify($1, '')
