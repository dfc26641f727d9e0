-- Deletes up to ?3 jobs in final state ?1 that finished at or before ?2 (µs), the first
-- to finish first; unique keys they still hold go with the rows. Walks the finished_at
-- index from its oldest entry, stepping over jobs of other final states. One statement
-- under the write lock: nothing (a replay) can change a picked row before it goes.
DELETE FROM {table}
WHERE rowid IN (
    SELECT rowid
    FROM {table} INDEXED BY {table}_finished_idx
    WHERE finished_at IS NOT NULL
      AND finished_at <= ?2
      AND state = ?1
    ORDER BY finished_at
    LIMIT ?3
)
