-- Version 1: the jobs table and its indexes; the same columns as the Postgres dialect.
-- Times are INTEGER microseconds since the Unix epoch: they sort exactly, unlike text
-- layouts. {table} is a validated identifier; every statement is idempotent.

CREATE TABLE IF NOT EXISTS {table} (
    id               TEXT    PRIMARY KEY,          -- ULID, sorts by creation
    kind             TEXT    NOT NULL,
    payload          TEXT    NOT NULL,             -- JSON
    priority         INTEGER NOT NULL DEFAULT 0,   -- higher runs first
    attempts         INTEGER NOT NULL DEFAULT 0,   -- claims so far
    max_attempts     INTEGER NOT NULL,
    state            TEXT    NOT NULL,             -- pending|running|completed|failed|cancelled
    created_at       INTEGER NOT NULL,
    scheduled_at     INTEGER NOT NULL,
    finished_at      INTEGER,                      -- when it reached a final state
    unique_key       TEXT,                         -- as given, kept for display
    unique_until     INTEGER,                      -- end of the unique window; NULL = until final
    unique_lock      TEXT,                         -- the key while it is held
    last_error       TEXT,
    claim_token      INTEGER,                      -- fencing token of the current claim
    lease_expires_at INTEGER
);

-- Matches the claim's ORDER BY, over pending jobs only. The claim names it with
-- INDEXED BY: without statistics the planner prefers the (state, id) index and sorts
-- every pending row on each claim.
CREATE INDEX IF NOT EXISTS {table}_pending_idx
    ON {table} (priority DESC, scheduled_at, id) WHERE state = 'pending';

-- The reclaimer looks only at running jobs, by lease deadline.
CREATE INDEX IF NOT EXISTS {table}_lease_idx
    ON {table} (lease_expires_at) WHERE state = 'running';

-- One holder per unique key.
CREATE UNIQUE INDEX IF NOT EXISTS {table}_unique_idx
    ON {table} (unique_lock) WHERE unique_lock IS NOT NULL;

-- ListJobs by state, newest first; Stats by state; the batch acks' (state, id) probes.
CREATE INDEX IF NOT EXISTS {table}_state_idx ON {table} (state, id);

-- Pruning of finished jobs past their retention.
CREATE INDEX IF NOT EXISTS {table}_finished_idx
    ON {table} (finished_at) WHERE finished_at IS NOT NULL;
