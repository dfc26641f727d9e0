-- Locks limited kind ?'s row for this claim, with its limit and the database's clock.
-- Every claim of the kind takes this lock before counting, so two claims never count the
-- same free slot; SKIP LOCKED makes a claim pass over a kind another claim is taking
-- instead of waiting (no row: held, or no longer limited).
SELECT concurrency, key_concurrency, rate_count, rate_ms, key_rate_count, key_rate_ms,
       UTC_TIMESTAMP(6)
FROM `{table}_limits`
WHERE kind = ?
FOR UPDATE SKIP LOCKED
