-- Resumes kind ?1.
DELETE FROM {table}_paused WHERE kind = ?1
