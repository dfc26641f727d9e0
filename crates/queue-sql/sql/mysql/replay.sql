-- Failed job ? (locked by replay_pick.sql) back to pending, due now, attempts reset.
UPDATE `{table}`
SET attempts     = 0,
    scheduled_at = UTC_TIMESTAMP(6),
    finished_at  = NULL,
    state        = 'pending'
WHERE id = ?
