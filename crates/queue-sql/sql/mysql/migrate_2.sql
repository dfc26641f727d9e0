-- Version 2: limits (Queue::set_limit). Only statements that may run again (a start that
-- died half way through repeats them): MySQL DDL commits at once, so a version is not
-- applied atomically. `ADD … IF NOT EXISTS` is MariaDB's.
--
-- The jobs' concurrency key, and an index for the claim's walk over a limited kind's
-- keys (limit_keys.sql, limit_pick_key.sql). MySQL has no partial indexes, so the index
-- leads with columns that never change, and its state and due time are generated
-- columns that are NULL for a job without a key: such a job writes its entry once, when
-- inserted, and no claim, ack or retry of it ever rewrites it (InnoDB leaves an index
-- alone when none of its values change).
ALTER TABLE `{table}`
    ADD COLUMN IF NOT EXISTS concurrency_key VARBINARY(255) NULL,
    ADD COLUMN IF NOT EXISTS keyed_state VARCHAR(9) CHARACTER SET ascii COLLATE ascii_general_ci
        AS (IF(concurrency_key IS NULL, NULL, state)) VIRTUAL,
    ADD COLUMN IF NOT EXISTS keyed_due DATETIME(6)
        AS (IF(concurrency_key IS NULL, NULL, scheduled_at)) VIRTUAL,
    ADD INDEX IF NOT EXISTS `{table}_keyed_idx` (kind, concurrency_key, keyed_state, keyed_due, id);

-- The limit of each limited kind; every claim reads which kinds are here (like the
-- paused ones) and takes their jobs under the kind's row lock. Rates in ms. `rotation`
-- is the group the kind's last claim served last: a key, '' for the jobs without one,
-- NULL before any; the next claim serves the groups after it first.
CREATE TABLE IF NOT EXISTS `{table}_limits` (
    kind            VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL PRIMARY KEY,
    concurrency     INT UNSIGNED   NULL,
    key_concurrency INT UNSIGNED   NULL,
    rate_count      INT UNSIGNED   NULL,
    rate_ms         BIGINT         NULL,
    key_rate_count  INT UNSIGNED   NULL,
    key_rate_ms     BIGINT         NULL,
    rotation        VARBINARY(255) NULL
) ENGINE = InnoDB;

-- Recent starts of the kinds with a rate, for the sliding windows: one row per claimed
-- job with its key ('' for none). Rows older than the longest window are deleted by the
-- kind's claims.
CREATE TABLE IF NOT EXISTS `{table}_starts` (
    id   BIGINT         NOT NULL AUTO_INCREMENT PRIMARY KEY,
    kind VARCHAR(255)   CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    ckey VARBINARY(255) NOT NULL DEFAULT '',
    at   DATETIME(6)    NOT NULL,
    KEY `{table}_starts_idx` (kind, at)
) ENGINE = InnoDB;
