-- Newest first, any state.
SELECT {columns} FROM {table} ORDER BY id DESC LIMIT ?1
