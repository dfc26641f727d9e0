-- Version 1: the jobs table, its indexes and the paused kinds; the same columns as the
-- other dialects. Times are DATETIME(6) in UTC, always written from UTC_TIMESTAMP(6) or
-- from UTC values bound by the queue, so the session time zone never matters.
-- Identifiers are quoted: a name that is plain in Postgres and SQLite may be a MySQL
-- keyword. Only CREATE TABLE IF NOT EXISTS, which both MySQL 8 and MariaDB accept, so a
-- start that died half way through can run it again.
--
-- MySQL has no partial indexes: every index holds every row, so each one here is one
-- that a hot statement needs. Text that is compared (ids, kinds, keys, states) is binary
-- or ASCII, compared byte for byte; the rest takes the server's default collation.

CREATE TABLE IF NOT EXISTS `{table}` (
    id               CHAR(26)     CHARACTER SET ascii COLLATE ascii_general_ci NOT NULL, -- ULID
    kind             VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    payload          LONGTEXT     CHARACTER SET utf8mb4 NOT NULL,                      -- JSON
    priority         INT          NOT NULL DEFAULT 0,    -- higher runs first
    attempts         INT          NOT NULL DEFAULT 0,    -- claims so far
    max_attempts     INT          NOT NULL,
    state            VARCHAR(9)   CHARACTER SET ascii COLLATE ascii_general_ci NOT NULL,
    created_at       DATETIME(6)  NOT NULL,
    scheduled_at     DATETIME(6)  NOT NULL,
    finished_at      DATETIME(6)  NULL,                  -- when it reached a final state
    unique_key       VARCHAR(512) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL, -- for display
    unique_until     DATETIME(6)  NULL,                  -- end of the window; NULL = until final
    unique_lock      VARBINARY(512)  NULL,               -- the key while it is held
    last_error       TEXT         CHARACTER SET utf8mb4 NULL,
    claim_token      BIGINT       NULL,                  -- fencing token of the current claim
    lease_expires_at DATETIME(6)  NULL,
    output           LONGTEXT     CHARACTER SET utf8mb4 NULL, -- JSON a handler returned
    cancel_requested BOOLEAN      NOT NULL DEFAULT FALSE,
    PRIMARY KEY (id),
    -- The claim: one priority at a time, due jobs in order (claim.sql). Led by the state,
    -- so the pending jobs are one range of it, and the running jobs another, which the
    -- reclaimer reads (reclaim.sql): an index by lease deadline would be written by
    -- every claim, heartbeat and ack.
    KEY `{table}_pending_idx` (state, priority, scheduled_at, id),
    -- One holder per unique key; NULLs do not collide.
    UNIQUE KEY `{table}_unique_idx` (unique_lock),
    -- Pruning and purging of finished jobs.
    KEY `{table}_finished_idx` (finished_at)
) ENGINE = InnoDB;

-- The kinds paused in the database: every claim of every process skips them.
CREATE TABLE IF NOT EXISTS `{table}_paused` (
    kind      VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL PRIMARY KEY,
    paused_at DATETIME(6)  NOT NULL
) ENGINE = InnoDB;

-- A counter that writes which make jobs due without inserting any (run now, resume,
-- replay, reclaim) raise; the watch of every process (watch.sql) notices it changing and
-- wakes its idle workers, since MySQL has no NOTIFY. Enqueues are noticed by the newest
-- id instead, so they write no shared row.
CREATE TABLE IF NOT EXISTS `{table}_wake` (
    one TINYINT NOT NULL PRIMARY KEY,
    n   BIGINT  NOT NULL
) ENGINE = InnoDB;

INSERT INTO `{table}_wake` (one, n) VALUES (1, 0)
ON DUPLICATE KEY UPDATE one = one;
