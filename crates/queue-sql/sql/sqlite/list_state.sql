-- Up to ?2 jobs in state ?1, newest first, over the (state, id) index.
SELECT {columns} FROM {table} WHERE state = ?1 ORDER BY id DESC LIMIT ?2
