-- Newest first within one state (uses the (state, id) index).
SELECT {columns} FROM {table} WHERE state = ?1 ORDER BY id DESC LIMIT ?2
