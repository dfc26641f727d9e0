-- Deletes finished jobs past their retention, at most ?5 per call (the caller repeats
-- while full), keeping rows whose unique window is still held.
-- ?1 now, ?2 cutoff for completed and cancelled jobs, ?3 cutoff for failed jobs (NULL
-- keeps them), ?4 the later of the two cutoffs; all µs. The range on ?4 walks the
-- finished_at index instead of every completed row.
DELETE FROM {table}
WHERE rowid IN (
    SELECT rowid
    FROM {table} INDEXED BY {table}_finished_idx
    WHERE finished_at IS NOT NULL
      AND finished_at < ?4
      AND (
           (state IN ('completed', 'cancelled') AND finished_at < ?2)
        OR (state = 'failed' AND ?3 IS NOT NULL AND finished_at < ?3)
      )
      AND (unique_lock IS NULL OR unique_until <= ?1)
    LIMIT ?5
)
