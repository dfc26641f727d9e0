-- Which schema versions of {table} are applied.
SELECT version FROM `{table}_migrations`
