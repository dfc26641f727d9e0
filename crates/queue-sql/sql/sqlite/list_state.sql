-- Up to ?2 jobs in state ?1, newest first, with outputs and cancel requests (as in
-- get.sql): walks the primary key from the newest id and stops at the limit (no index by
-- state since migration 2).
SELECT {columns}, output, cancel_requested FROM {table} WHERE state = ?1 ORDER BY id DESC LIMIT ?2
