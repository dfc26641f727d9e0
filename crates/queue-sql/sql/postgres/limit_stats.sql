-- Running and held-back jobs per limited kind (see migrate_8.sql).
SELECT kind, running, waiting FROM {table}_limit_stats()
