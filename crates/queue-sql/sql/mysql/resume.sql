-- Resumes kind ?.
DELETE FROM `{table}_paused`
WHERE kind = ?
