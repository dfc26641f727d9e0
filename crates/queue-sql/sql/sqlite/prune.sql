-- Deletes finished jobs past their retention, in bounded batches, keeping held unique
-- windows. ?1 now, ?2 completed/cancelled cutoff, ?3 failed cutoff (NULL keeps them).
DELETE FROM {table}
WHERE id IN (
    SELECT id
    FROM {table}
    WHERE finished_at IS NOT NULL
      AND (
           (state IN ('completed', 'cancelled') AND finished_at < ?2)
        OR (state = 'failed' AND ?3 IS NOT NULL AND finished_at < ?3)
      )
      AND (unique_lock IS NULL OR unique_until <= ?1)
    LIMIT 10000
)
