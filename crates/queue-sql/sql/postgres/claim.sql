-- Claims up to $2 due jobs of the kinds in $1 (any kind when $1 is empty), best first,
-- leased for $3 seconds, resuming after the claim-order position ($4, $5, $6) or from the
-- head when they are NULL. The statement lives in migrate_3.sql, which says why.
SELECT {columns}
FROM {table}_claim($1::text[], $2::bigint, $3::float8, $4::bigint, $5::timestamptz, $6::text)
