-- One multi-row insert of a chunk, one `(?)` per row, as the queue's own bulk enqueue
-- renders its chunks.
INSERT INTO {table} (payload)
VALUES {rows}
