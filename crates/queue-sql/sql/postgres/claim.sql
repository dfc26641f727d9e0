-- Claims up to $2 due jobs of the kinds in $1 (any kind when $1 is empty), best first,
-- leased for $3 seconds. The statement lives in migrate_2.sql, which says why.
SELECT {columns} FROM {table}_claim($1::text[], $2::bigint, $3::float8)
