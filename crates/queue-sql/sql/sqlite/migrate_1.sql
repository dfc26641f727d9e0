-- Version 1: the jobs table and its indexes. Times are integer microseconds since the
-- Unix epoch, so they sort exactly. {table} is a validated identifier.

CREATE TABLE IF NOT EXISTS {table} (
    id               TEXT    PRIMARY KEY,      -- ULID, sorts by creation
    kind             TEXT    NOT NULL,
    payload          TEXT    NOT NULL,         -- JSON
    priority         INTEGER NOT NULL DEFAULT 0,
    attempts         INTEGER NOT NULL DEFAULT 0,
    max_attempts     INTEGER NOT NULL,
    state            TEXT    NOT NULL,         -- pending|running|completed|failed|cancelled
    created_at       INTEGER NOT NULL,
    scheduled_at     INTEGER NOT NULL,
    finished_at      INTEGER,
    unique_key       TEXT,                     -- as given, kept for display
    unique_until     INTEGER,                  -- end of the unique window; NULL = until final
    unique_lock      TEXT,                     -- the key while it is held
    last_error       TEXT,
    claim_token      INTEGER,
    lease_expires_at INTEGER
);

-- Matches the claim's ORDER BY, over pending jobs only.
CREATE INDEX IF NOT EXISTS {table}_pending_idx
    ON {table} (priority DESC, scheduled_at, id) WHERE state = 'pending';

-- The reclaimer looks only at running jobs by lease deadline.
CREATE INDEX IF NOT EXISTS {table}_lease_idx
    ON {table} (lease_expires_at) WHERE state = 'running';

-- One holder per unique key.
CREATE UNIQUE INDEX IF NOT EXISTS {table}_unique_idx
    ON {table} (unique_lock) WHERE unique_lock IS NOT NULL;

-- ListJobs by state, newest first; Stats by state.
CREATE INDEX IF NOT EXISTS {table}_state_idx ON {table} (state, id);

-- Pruning of finished jobs past their retention.
CREATE INDEX IF NOT EXISTS {table}_finished_idx
    ON {table} (finished_at) WHERE finished_at IS NOT NULL;
