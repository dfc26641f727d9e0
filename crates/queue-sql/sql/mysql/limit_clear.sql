-- Removes the limit of kind ?; none is fine.
DELETE FROM `{table}_limits`
WHERE kind = ?
