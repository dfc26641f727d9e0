-- One job by id, with its output (last, after {columns}; claims return no output).
SELECT {columns}, output FROM {table} WHERE id = ?1
