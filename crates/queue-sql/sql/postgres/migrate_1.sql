-- Version 1: the jobs table, its indexes, and the insert notification.
-- {table} is a validated identifier; every statement is idempotent.

CREATE TABLE IF NOT EXISTS {table} (
    id               text        PRIMARY KEY,           -- ULID, sorts by creation
    kind             text        NOT NULL,
    payload          jsonb       NOT NULL,
    priority         integer     NOT NULL DEFAULT 0,    -- higher runs first
    attempts         integer     NOT NULL DEFAULT 0,    -- claims so far
    max_attempts     integer     NOT NULL,
    state            text        NOT NULL,              -- pending|running|completed|failed|cancelled
    created_at       timestamptz NOT NULL DEFAULT now(),
    scheduled_at     timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz,                       -- when it reached a final state
    unique_key       text,                              -- as given, kept for display
    unique_until     timestamptz,                       -- end of the unique window; NULL = until final
    unique_lock      text,                              -- the key while it is held
    last_error       text,
    claim_token      bigint,                            -- fencing token of the current claim
    lease_expires_at timestamptz
);

-- Matches the claim's ORDER BY, over due-or-scheduled pending jobs only.
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

-- One NOTIFY per insert statement, on the channel named after the table; Postgres also
-- folds repeats within a transaction into one.
CREATE OR REPLACE FUNCTION queue_notify_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify(TG_TABLE_NAME, '');
    RETURN NULL;
END;
$$;

DROP TRIGGER IF EXISTS {table}_notify ON {table};
CREATE TRIGGER {table}_notify AFTER INSERT ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION queue_notify_insert();
