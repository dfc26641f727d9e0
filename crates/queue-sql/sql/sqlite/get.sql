-- One job by id.
SELECT {columns} FROM {table} WHERE id = ?1
