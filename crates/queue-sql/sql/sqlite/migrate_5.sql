-- Version 5: cancel requests. `Queue::cancel` of a running job sets the flag (cancel.sql);
-- a nack, discard, snooze or reclaim of a flagged job ends it 'cancelled' rather than
-- retrying or failing it. Acks leave it alone: a job that succeeded stays 'completed'.
ALTER TABLE {table} ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0;
