-- Up to ?1 jobs of any state, newest first (ULIDs sort by creation; primary key).
SELECT {columns} FROM {table} ORDER BY id DESC LIMIT ?1
