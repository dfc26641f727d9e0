-- Up to ?4 due jobs of kind ?1 and priority ?2 (due at ?3, µs), best first: a range of
-- the kind index that ends at the first job not yet due. The caller keeps the best of
-- every kind's and claims them with claim_rows.sql.
SELECT rowid, scheduled_at, id
FROM {table} INDEXED BY {table}_kind_idx
WHERE state = 'pending'
  AND kind = ?1
  AND priority = ?2
  AND scheduled_at <= ?3
ORDER BY scheduled_at, id
LIMIT ?4
