-- One job by id, with its output, cancel request and finish time (after the shared
-- columns; claims return none of them).
SELECT {columns}, output, cancel_requested, finished_at
FROM `{table}`
WHERE id = ?
