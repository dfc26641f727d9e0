-- Stores the group kind ?'s claim served last (?: a key, '' for the unkeyed jobs).
UPDATE `{table}_limits`
SET rotation = ?
WHERE kind = ?
