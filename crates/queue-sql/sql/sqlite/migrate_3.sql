-- Version 3: kinds paused in the database, honoured by every claim of every process.
--
-- The claim reads the paused kinds once per call. While a pause concerns a claim, it
-- reads each of its other kinds from the kind index below instead of skipping paused
-- jobs in the pending index, where every paused job at the head of a priority would be
-- stepped over by every claim.

-- The paused kinds (µs for paused_at). Pausing inserts, resuming deletes.
CREATE TABLE IF NOT EXISTS {table}_paused (
    kind      TEXT    PRIMARY KEY,
    paused_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Pending jobs per kind, in claim order within the kind.
CREATE INDEX IF NOT EXISTS {table}_kind_idx
    ON {table} (kind, priority DESC, scheduled_at, id) WHERE state = 'pending';
