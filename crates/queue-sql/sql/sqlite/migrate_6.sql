-- Version 6: cancel requests. `Queue::cancel` of a running job sets the flag (cancel.sql);
-- a nack, discard, snooze or reclaim of a flagged job ends it 'cancelled' rather than
-- retrying or failing it (the count trigger of migration 4 counts that change). Acks
-- leave it alone: a job that succeeded stays 'completed'.
ALTER TABLE {table} ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0;
