-- One job by id, with its output (after the shared columns; claims return none).
SELECT {columns}, output FROM {table} WHERE id = ?1
