-- Whether the queue's migration record ? (`{table}_migrations`) exists in the URL's
-- database, where queue-sql's unqualified names go: the mark of a table the queue made.
SELECT EXISTS (
    SELECT 1
    FROM information_schema.tables
    WHERE table_schema = DATABASE()
      AND table_name = ?
)
