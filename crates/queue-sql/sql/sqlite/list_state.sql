-- Up to ?2 jobs in state ?1, newest first, with outputs (as in get.sql): walks the
-- primary key from the newest id and stops at the limit (no index by state since
-- migration 2).
SELECT {columns}, output FROM {table} WHERE state = ?1 ORDER BY id DESC LIMIT ?2
