-- Version 3: kinds paused in the database, honoured by every claim of every process.
--
-- The claim skips paused kinds (claim.sql). Their jobs stay in the pending index, so a
-- claim steps over those ahead of the jobs it takes, while the pause lasts. An index led
-- by the kind would spare that walk, but every enqueue would write it.

-- The paused kinds (µs for paused_at). Pausing inserts, resuming deletes.
CREATE TABLE IF NOT EXISTS {table}_paused (
    kind      TEXT    PRIMARY KEY,
    paused_at INTEGER NOT NULL
) WITHOUT ROWID;
