-- Moves ?3 jobs from state ?1 to state ?2 in the counts (migration 4), for the changes
-- the triggers leave to the queue's statements. ?1 is NULL for jobs just inserted.
UPDATE {table}_counts
SET n = n + CASE WHEN state = ?1 THEN -?3 ELSE ?3 END
WHERE state = ?1 OR state = ?2
