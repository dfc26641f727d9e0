-- Version 6: concurrency and rate limits per kind (Queue::set_limit), honoured by every
-- claim of every process (see src/sqlite/limited.rs).
--
-- Jobs may carry a concurrency key. Only keyed jobs enter the two new partial indexes, so
-- an enqueue or claim of a job without a key writes nothing more than before.
ALTER TABLE {table} ADD COLUMN concurrency_key TEXT;

-- A limited kind's due keyed jobs, key by key, each key's in claim order: the claim walks
-- the distinct keys of a kind (one probe each) and takes the best jobs of those with room.
CREATE INDEX IF NOT EXISTS {table}_keyed_pending_idx
    ON {table} (kind, concurrency_key, priority DESC, scheduled_at, id)
    WHERE state = 'pending' AND concurrency_key IS NOT NULL;

-- Running keyed jobs by key and lease deadline: how many of a key hold an unexpired lease.
CREATE INDEX IF NOT EXISTS {table}_keyed_running_idx
    ON {table} (kind, concurrency_key, lease_expires_at)
    WHERE state = 'running' AND concurrency_key IS NOT NULL;

-- One row per limited kind; NULL parts are not limited, periods in ms. `cursor` is the
-- last concurrency key served, where the next claim's walk over the keys starts.
CREATE TABLE IF NOT EXISTS {table}_limits (
    kind            TEXT    PRIMARY KEY,
    concurrency     INTEGER,
    key_concurrency INTEGER,
    rate_count      INTEGER,
    rate_ms         INTEGER,
    key_rate_count  INTEGER,
    key_rate_ms     INTEGER,
    cursor          TEXT
) WITHOUT ROWID;

-- Recent starts of kinds with a rate, for the sliding windows: one row per claimed job,
-- `key` '' for a job without a concurrency key, `at` in µs. Claims delete the rows whose
-- windows are over.
CREATE TABLE IF NOT EXISTS {table}_starts (
    kind TEXT    NOT NULL,
    key  TEXT    NOT NULL DEFAULT '',
    at   INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS {table}_starts_key_idx ON {table}_starts (kind, key, at);
CREATE INDEX IF NOT EXISTS {table}_starts_at_idx ON {table}_starts (kind, at);
