-- Up to ?1 jobs of any state, newest first (ULIDs sort by creation; primary key), with
-- outputs and cancel requests (as in get.sql).
SELECT {columns}, output, cancel_requested FROM {table} ORDER BY id DESC LIMIT ?1
