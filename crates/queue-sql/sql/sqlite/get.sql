-- One job by id, with its output and cancel request (after the shared columns; claims
-- return neither).
SELECT {columns}, output, cancel_requested FROM {table} WHERE id = ?1
