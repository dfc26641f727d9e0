-- Up to ?2 jobs in state ?1, newest first: walks the primary key from the newest id and
-- stops at the limit (no index by state since migration 2).
SELECT {columns} FROM {table} WHERE state = ?1 ORDER BY id DESC LIMIT ?2
