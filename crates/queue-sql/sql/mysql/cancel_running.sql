-- Records a cancel request on running job ?; its worker learns of it from its heartbeat
-- (held.sql). A changed row count of one means the job is running.
UPDATE `{table}`
SET cancel_requested = TRUE
WHERE id = ?
  AND state = 'running'
