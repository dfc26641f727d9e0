-- Deletes the rows the same transaction claimed, given as one `?` per row.
DELETE FROM {table} WHERE id IN ({ids})
