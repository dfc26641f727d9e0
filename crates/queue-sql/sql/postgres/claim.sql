-- Claims up to $2 due jobs of the kinds in $1 (any kind when $1 is empty), best first,
-- leased for $3 seconds, resuming after the claim-order position ($4, $5, $6) or from the
-- head when they are NULL. The statement lives in migrate_8.sql (limits) after
-- migrate_3.sql, which say why.
--
-- A claimed job has no output, cancel request nor finish time: the tail of get.sql is
-- given as such, so that `limited_pick` (whether a limit, not the plain scan, took the
-- job) comes after it.
SELECT {columns}, NULL::text AS output, false AS cancel_requested,
       NULL::timestamptz AS finished_at, limited_pick
FROM {table}_claim($1::text[], $2::bigint, $3::float8, $4::bigint, $5::timestamptz, $6::text)
