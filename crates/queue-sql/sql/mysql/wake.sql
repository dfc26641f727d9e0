-- Tells other processes' watches that jobs may have become due (see migrate_1.sql).
UPDATE `{table}_wake` SET n = n + 1 WHERE one = 1
