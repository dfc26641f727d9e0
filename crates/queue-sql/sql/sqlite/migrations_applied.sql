-- The schema versions already applied, read inside the migration transaction.
SELECT version FROM {table}_migrations
