-- The first kind after ?1 with pending jobs (no row when none): listing the kinds of a
-- claim of any kind while some kind is paused takes one probe of the kind index each.
SELECT kind
FROM {table} INDEXED BY {table}_kind_idx
WHERE state = 'pending'
  AND kind > ?1
ORDER BY kind
LIMIT 1
