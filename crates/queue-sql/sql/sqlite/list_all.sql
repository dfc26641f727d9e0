-- Up to ?1 jobs of any state, newest first (ULIDs sort by creation; primary key), with
-- outputs (as in get.sql).
SELECT {columns}, output FROM {table} ORDER BY id DESC LIMIT ?1
