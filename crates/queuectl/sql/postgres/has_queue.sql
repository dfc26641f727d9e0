-- Whether the queue's migration record $1 (`{table}_migrations`) exists, looked up on the
-- search path as queue-sql's unqualified names are: the mark of a table the queue made.
SELECT to_regclass($1) IS NOT NULL
