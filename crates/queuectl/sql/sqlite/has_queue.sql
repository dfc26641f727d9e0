-- Whether the queue's migration record ?1 (`{table}_migrations`) exists: the mark of a
-- table the queue made.
SELECT EXISTS (
    SELECT 1
    FROM sqlite_master
    WHERE type = 'table'
      AND name = ?1
)
