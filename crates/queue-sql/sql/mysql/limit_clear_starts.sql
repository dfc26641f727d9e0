-- Forgets every start of kind ?, whose limit is gone.
DELETE FROM `{table}_starts`
WHERE kind = ?
